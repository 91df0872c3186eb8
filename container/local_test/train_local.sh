#!/usr/bin/env bash
# Run a training image on a local folder laid out like /opt/ml: the classic way to try a
# SageMaker bring-your-own-container image before pushing it.
#
# Usage: container/local_test/train_local.sh [options] IMAGE
#   -c, --channel NAME=DIR       data channel NAME from folder DIR (mounted read-only at
#                                /opt/ml/input/data/NAME); repeatable
#   -p, --hyperparameter KEY=VALUE
#                                hyperparameter; repeatable. When given, they replace the
#                                example hyperparameters of test_dir/ (SageMaker passes exactly
#                                the hyperparameters of the job)
#   -e, --env NAME=VALUE         environment variable for the container; repeatable
#   -d, --dir DIR                job folder (default: build/local_test/opt_ml at the repository
#                                root); its input/, model/ and output/ are replaced each run
#   -g, --gpus                   give the container all GPUs (docker run --gpus all)
#   -h, --help                   show this help
#
# The job folder starts as a copy of test_dir/ beside this script (input/config/*.json, and any
# channel folders under input/data/). Its input/, model/, output/ (and checkpoints/ when it
# exists) are mounted at the same places under /opt/ml, as SageMaker mounts them, so an image
# that keeps code in /opt/ml/code (see container/extend/) still sees it. Exit status: the job's.
#
# Example: container/local_test/train_local.sh -c train=../shared/data/cora -p model=gat sagemaker-dgl:cpu
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
job_dir="$root/build/local_test/opt_ml"
docker_cmd="${DOCKER:-docker}"
channels=()
hyperparameters=()
env_args=()
gpu_args=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "train_local.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -c|--channel) [ $# -ge 2 ] || die "$1 needs NAME=DIR"; channels+=("$2"); shift 2 ;;
    -p|--hyperparameter) [ $# -ge 2 ] || die "$1 needs KEY=VALUE"; hyperparameters+=("$2"); shift 2 ;;
    -e|--env) [ $# -ge 2 ] || die "$1 needs NAME=VALUE"; env_args+=(-e "$2"); shift 2 ;;
    -d|--dir) [ $# -ge 2 ] || die "$1 needs a folder"; job_dir="$2"; shift 2 ;;
    -g|--gpus) gpu_args=(--gpus all); shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }
image="$1"

json_string() {  # $1 -> a JSON string literal
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/\\t}"; s="${s//$'\n'/\\n}"; s="${s//$'\r'/\\r}"
  printf '"%s"' "$s"
}

# A fresh job folder from test_dir/ (checkpoints/ is kept, so that a stopped job can resume).
mkdir -p "$job_dir"
job_dir="$(cd "$job_dir" && pwd)"
rm -rf "$job_dir/input" "$job_dir/model" "$job_dir/output"
cp -R "$here/test_dir/input" "$job_dir/input"
mkdir -p "$job_dir/model" "$job_dir/output/data" "$job_dir/input/data"

if [ ${#hyperparameters[@]} -gt 0 ]; then
  {
    printf '{'
    sep=""
    for pair in "${hyperparameters[@]}"; do
      key="${pair%%=*}"
      [ "$key" != "$pair" ] && [ -n "$key" ] || die "hyperparameter '$pair' is not KEY=VALUE"
      printf '%s\n  %s: %s' "$sep" "$(json_string "$key")" "$(json_string "${pair#*=}")"
      sep=","
    done
    printf '\n}\n'
  } > "$job_dir/input/config/hyperparameters.json"
fi

mounts=(-v "$job_dir/input:/opt/ml/input" -v "$job_dir/model:/opt/ml/model" -v "$job_dir/output:/opt/ml/output")
[ -d "$job_dir/checkpoints" ] && mounts+=(-v "$job_dir/checkpoints:/opt/ml/checkpoints")

# Channels: folders copied from test_dir/input/data, then the --channel folders.
names=()
for path in "$job_dir"/input/data/*/; do
  [ -d "$path" ] && names+=("$(basename "$path")")
done
for pair in "${channels[@]+"${channels[@]}"}"; do
  name="${pair%%=*}"
  dir="${pair#*=}"
  [ "$name" != "$pair" ] && [ -n "$name" ] || die "channel '$pair' is not NAME=DIR"
  [ -d "$dir" ] || die "channel $name: '$dir' is not a folder"
  mkdir -p "$job_dir/input/data/$name"
  mounts+=(-v "$(cd "$dir" && pwd):/opt/ml/input/data/$name:ro")
  names+=("$name")
done
{
  printf '{'
  sep=""
  for name in "${names[@]+"${names[@]}"}"; do
    printf '%s\n  %s: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}' \
      "$sep" "$(json_string "$name")"
    sep=","
  done
  printf '\n}\n'
} > "$job_dir/input/config/inputdataconfig.json"

echo "train_local.sh: $image on $job_dir (channels: ${names[*]:-none})" >&2
# Named and removed afterwards rather than --rm: some Docker-API engines (podman 4) report exit
# status 0 for `docker run --rm` whatever the job returned.
container="train-local-$$-$RANDOM"
trap '"$docker_cmd" rm -f "$container" >/dev/null 2>&1 || true' EXIT
status=0
"$docker_cmd" run --name "$container" --hostname algo-1 "${gpu_args[@]+"${gpu_args[@]}"}" \
  "${env_args[@]+"${env_args[@]}"}" "${mounts[@]}" "$image" train || status=$?
if [ "$status" -eq 0 ]; then
  echo "train_local.sh: job succeeded; model in $job_dir/model, outputs in $job_dir/output/data" >&2
else
  echo "train_local.sh: job failed (exit $status): $(cat "$job_dir/output/failure" 2>/dev/null || echo 'no failure file')" >&2
fi
exit "$status"
