#!/bin/bash
# Test accuracy of GraphSAGE with neighbour sampling on Cora over seeds, through the real job:
#   sagemaker-dgl local --channel train=<cora> model=graphsage fanouts=10,10 seed=S [KEY=VALUE ...]
# Prints one line per seed and the median. Extra arguments are added to every job's hyperparameters.
# Environment: CORA (default ../shared/data/cora), SEEDS (default "0 1 2 3 4"), OUT (default benchmarks/out/graphsage_cora).
set -euo pipefail
cd "$(dirname "$0")/.."
CORA=${CORA:-../shared/data/cora}
SEEDS=${SEEDS:-0 1 2 3 4}
OUT=${OUT:-benchmarks/out/graphsage_cora}
tag=$(printf '%s' "${*:-defaults}" | tr -c 'A-Za-z0-9=.,_-' '_')
accuracies=()
for seed in $SEEDS; do
  dir="$OUT/$tag/seed$seed"
  mkdir -p "$dir"
  .venv/bin/sagemaker-dgl local --base-dir "$dir/job" --channel "train=$CORA" \
    model=graphsage fanouts=10,10 "seed=$seed" "$@" > "$dir/log.txt" 2>&1
  final=$(grep ' final ' "$dir/log.txt")
  acc=$(sed -n 's/.*test_accuracy=\([0-9.]*\).*/\1/p' <<< "$final")
  best=$(sed -n 's/.*best_epoch=\([0-9]*\).*/\1/p' <<< "$final")
  echo "seed=$seed test_accuracy=$acc best_epoch=$best ${*:-}"
  accuracies+=("$acc")
done
printf '%s\n' "${accuracies[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "median test_accuracy=%.4f over %d seeds (min %.4f, max %.4f)\n", m, NR, a[1], a[NR]}'
