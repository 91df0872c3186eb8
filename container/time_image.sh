#!/usr/bin/env bash
# Time the CPU image: a cold build, a rebuild without changes, a rebuild after a source edit
# (dependency layers cached), its size, and one job (GCN on Cora, 200 epochs) run with `docker run`
# against the same job run directly with .venv/bin/train, alternating. Prints Markdown for
# benchmarks/RESULTS.md.
#
# Usage: container/time_image.sh [CORA_DIR]     (default: $SAGEMAKER_DGL_DATA/cora or ../shared/data/cora)
# Environment: BASE_IMAGE (default localhost/debian-python:bookworm), CPU_TORCH_INDEX_URL (default
# empty: the engine's pip.conf finds the CPU wheel), RUNS (job repetitions, default 5), MAX_BUSY
# (each timed step waits until other processes use less than this share of the CPUs, default
# 0.15), DOCKER. Builds from the committed tree (git archive HEAD), so edits made meanwhile do not
# count, as sagemaker-dgl-timing:cpu and sagemaker-dgl-timing-edit:cpu (both removed at the end).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cora="${1:-${SAGEMAKER_DGL_DATA:-$root/../shared/data}/cora}"
cora="$(cd "$cora" && pwd)"
base_image="${BASE_IMAGE:-localhost/debian-python:bookworm}"
index_url="${CPU_TORCH_INDEX_URL:-}"
runs="${RUNS:-5}"
max_busy="${MAX_BUSY:-0.15}"
docker_cmd="${DOCKER:-docker}"
work="$(mktemp -d /tmp/time-image.XXXXXX)"
trap 'rm -rf "$work"; "$docker_cmd" rmi -f sagemaker-dgl-timing:cpu sagemaker-dgl-timing-edit:cpu >/dev/null 2>&1 || true' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
build() {  # $1: folder with the Makefile, $2: image name, rest: extra make arguments
  local dir="$1" name="$2"
  shift 2
  make -s -C "$dir" image-cpu BASE_IMAGE="$base_image" CPU_TORCH_INDEX_URL="$index_url" IMAGE_NAME="$name" \
    DOCKER="$docker_cmd" "$@" >>"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
}
busy() {  # share of CPU time not idle over 2 s
  local a b
  a=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  sleep 2
  b=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  echo "$a $b" | awk '{ total = $3 - $1; idle = $4 - $2; printf "%.2f", (total > 0 ? 1 - idle / total : 0) }'
}
worst_busy=0
wait_quiet() {  # until the machine is quiet (at most 10 minutes); remembers the busiest start
  local share
  for _ in $(seq 60); do
    share=$(busy)
    awk -v s="$share" -v m="$max_busy" 'BEGIN { exit !(s < m) }' && break
    sleep 8
  done
  worst_busy=$(awk -v s="$share" -v w="$worst_busy" 'BEGIN { print ((s > w) ? s : w) }')
}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The committed tree, and a copy of it with one more line in the package (a source edit).
mkdir -p "$work/context" "$work/edited"
git -C "$root" archive HEAD | tar -x -C "$work/context"
cp -R "$work/context/." "$work/edited/"
echo "# edited for timing" >> "$work/edited/src/sagemaker_dgl/__init__.py"

wait_quiet; start=$(now); build "$work/context" sagemaker-dgl-timing DOCKER_BUILD_ARGS=--no-cache; cold=$(elapsed "$start" "$(now)")
wait_quiet; start=$(now); build "$work/context" sagemaker-dgl-timing; cached=$(elapsed "$start" "$(now)")
wait_quiet; start=$(now); build "$work/edited" sagemaker-dgl-timing-edit; edited=$(elapsed "$start" "$(now)")
size=$("$docker_cmd" image inspect --format '{{.Size}}' sagemaker-dgl-timing:cpu)

job="$work/opt_ml"
mkdir -p "$job/input/config" "$job/input/data"
cp -R "$cora" "$job/input/data/train"
echo '{"model": "gcn"}' > "$job/input/config/hyperparameters.json"
echo '{"train": {"TrainingInputMode": "File"}}' > "$job/input/config/inputdataconfig.json"
echo '{"current_host": "algo-1", "hosts": ["algo-1"]}' > "$job/input/config/resourceconfig.json"
reset_job() { rm -rf "$job/model" "$job/output"; mkdir -p "$job/model" "$job/output/data"; }
# `docker run -d` and a poll of the state: an attached `docker run` (or `docker wait`) keeps
# podman 4.3's API service busy on a whole core for as long as the container runs, which on a
# 2-core machine starves the job. One attached run is timed as well, for the record.
run_detached() {
  local id
  id=$("$docker_cmd" run -d -v "$job:/opt/ml" sagemaker-dgl-timing:cpu train)
  while [ "$("$docker_cmd" inspect -f '{{.State.Running}}' "$id")" = true ]; do sleep 0.2; done
  "$docker_cmd" logs "$id" >"$work/container.log" 2>&1
  "$docker_cmd" rm "$id" >/dev/null
}
direct=()
container=()
for _ in $(seq "$runs"); do
  reset_job
  wait_quiet
  start=$(now)
  SAGEMAKER_BASE_DIR="$job" "$root/.venv/bin/train" >"$work/direct.log" 2>&1
  direct+=("$(elapsed "$start" "$(now)")")
  reset_job
  wait_quiet
  start=$(now)
  run_detached
  container+=("$(elapsed "$start" "$(now)")")
  [ -f "$job/output/success" ] || { tail -20 "$work/container.log" >&2; exit 1; }
done
reset_job
wait_quiet
start=$(now)
"$docker_cmd" run --rm -v "$job:/opt/ml" sagemaker-dgl-timing:cpu train >"$work/attached.log" 2>&1
attached=$(elapsed "$start" "$(now)")
direct_median=$(printf '%s\n' "${direct[@]}" | median)
container_median=$(printf '%s\n' "${container[@]}" | median)
accuracy=$(grep -o 'test_accuracy=[0-9.]*' "$work/container.log" | tail -1)

cat <<EOF
| measure | value |
|---|---|
| cold build (\`--no-cache\`, base image present) | ${cold} s |
| rebuild, nothing changed (all layers cached) | ${cached} s |
| rebuild after a source edit (dependency layers cached) | ${edited} s |
| image size (\`docker image inspect\`, uncompressed) | $(awk -v s="$size" 'BEGIN { printf "%.2f GB (%d bytes)", s / 1e9, s }') |
| job, \`.venv/bin/train\` directly (median of ${runs}: ${direct[*]}) | ${direct_median} s |
| job, \`docker run -d -v <job>:/opt/ml IMAGE train\` until it exits (median of ${runs}: ${container[*]}) | ${container_median} s |
| container overhead (docker run / direct) | $(awk -v c="$container_median" -v d="$direct_median" 'BEGIN { printf "%.2fx", c / d }') |
| job, attached \`docker run --rm -v <job>:/opt/ml IMAGE train\` (one run; see the note on podman's API service) | ${attached} s |
EOF
echo "job: GCN on Cora, 200 epochs, $accuracy; busiest CPU share before a timed step: $worst_busy" >&2
