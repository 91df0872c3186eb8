"""Tox21 toxicity (12 binary tasks, mean test ROC-AUC): this package's GCN, GIN and GAT against
DGL-LifeSci's own training loop for GCN.

For each split and seed the runs go one after the other, each in its own process:

- ``ours-<model>``: the built-in job exactly as the container runs it: ``cli.lay_out_job`` writes an
  ``/opt/ml``-shaped folder with ``model=<model> split=<split> seed=S`` (the model's defaults, its
  benchmark configuration) and the Tox21 folder as channel ``train``; ``.venv/bin/train``
  featurises (or reads the featurisation cache), trains, validates every epoch, tests the selected
  epoch and saves the model. Epoch times come from ``metrics.json`` (``epoch_time``: training and
  validation; ``epoch_train_time``).
- ``dgllife``: ``dgllife_tox21_loop.py``, DGL-LifeSci's moleculenet example loop with its
  ``GCN_canonical`` Tox21 configuration (the same layers, readout, predictor, optimiser and batch
  size as our ``gcn`` defaults; its split comes from its own ``RandomSplitter`` with the same seed
  and fractions, so the molecules in each split differ from ours; the scaffold split is the same).

Recorded per run: test ROC-AUC, best epoch and epochs run, the median epoch time after
``--warmup`` epochs, wall time, peak RSS and the CPU other processes used meanwhile. The summary
gives the medians over seeds per split and the ours-gcn/dgllife epoch-time ratio.

Usage (from the repository root)::

    .venv/bin/python benchmarks/graph_prediction_tox21.py --max-busy 0.3
    .venv/bin/python benchmarks/graph_prediction_tox21.py --seeds 0 --splits random --epochs 3   # smoke test

Output: a Markdown summary on stdout and in ``<out>/summary.md``, every run's record in
``<out>/results.json``, logs and job folders under ``<out>`` (default ``benchmarks/out/tox21``).
"""
import argparse
import json
import os
import statistics
import sys
from datetime import datetime
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _measure import add_quiet_arguments, fmt, machine_facts, median_or_none, run_quietly  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "tox21"


def run_one(impl: str, split: str, seed: int, args) -> Dict[str, object]:
    tag = f"{impl}-{split}-seed{seed}"
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads))
    if impl.startswith("ours-"):
        from sagemaker_dgl.cli import TRAINING_MODULE, lay_out_job

        base = args.out / "jobs" / tag
        base.mkdir(parents=True, exist_ok=True)
        hyperparameters = {"model": impl[len("ours-"):], "split": split, "seed": str(seed),
                           **dict(o.split("=", 1) for o in args.overrides)}
        if args.epochs:
            hyperparameters["epochs"] = str(args.epochs)
        lay_out_job(base, hyperparameters, {"train": str(Path(args.data).resolve())})
        env.update(SAGEMAKER_BASE_DIR=str(base), SAGEMAKER_TRAINING_MODULE=TRAINING_MODULE)
        command = [str(REPO / ".venv" / "bin" / "train")]
    else:
        json_path = args.out / "runs" / f"{tag}.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        command = [str(REPO / ".venv" / "bin" / "python"), str(HERE / "dgllife_tox21_loop.py"),
                   "--data", str(Path(args.data) / "tox21.csv"), "--split", split, "--seed", str(seed),
                   "--threads", str(args.threads), "--json", str(json_path)]
        if args.epochs:
            command += ["--epochs", str(args.epochs)]
    result, busy_before, attempts = run_quietly(command, tag, args.out / "logs", args, env=env, cwd=REPO)
    record: Dict[str, object] = dict(implementation=impl, split=split, seed=seed, elapsed_s=result.elapsed,
                                     max_rss_mib=result.max_rss_mib, others_cores=result.others_cores,
                                     busy_before=busy_before, attempts=attempts, threads=args.threads)
    if impl.startswith("ours-"):
        metrics = json.loads((base / "output" / "data" / "metrics.json").read_text())
        epoch_times = [row["epoch_time"] for row in metrics["history"]]
        record.update(test_roc_auc=metrics["final"]["test_roc_auc"], best_epoch=metrics["final"]["best_epoch"])
    else:
        detail = json.loads(json_path.read_text())
        epoch_times = [row["epoch_time"] for row in detail["epochs"]]
        record.update(test_roc_auc=detail["test_roc_auc"], best_epoch=detail["best_epoch"])
    counted = slice(args.warmup, None) if len(epoch_times) > args.warmup else slice(None)
    record.update(epochs=len(epoch_times), median_epoch_s=statistics.median(epoch_times[counted]))
    print(f"  {tag}: test ROC-AUC {record['test_roc_auc']:.4f} (best epoch {record['best_epoch']} of "
          f"{record['epochs']}), epoch {record['median_epoch_s']:.2f} s, wall {result.elapsed:.0f} s, "
          f"others {result.others_cores:.2f} cores", flush=True)
    return record


def summarise(records: List[Dict[str, object]], implementations: List[str], splits: List[str]) -> str:
    lines = ["| split | implementation | test ROC-AUC per seed | median | epochs (best) per seed | median epoch s "
             "| median wall s |", "|" + "---|" * 7]
    for split in splits:
        for impl in implementations:
            runs = [r for r in records if r["implementation"] == impl and r["split"] == split]
            if not runs:
                continue
            aucs = ", ".join(f"{r['test_roc_auc']:.4f}" for r in runs)
            epochs = ", ".join(f"{r['epochs']} ({r['best_epoch']})" for r in runs)
            lines.append(f"| {split} | {impl} | {aucs} | **{fmt(median_or_none(r['test_roc_auc'] for r in runs), 4)}** "
                         f"| {epochs} | {fmt(median_or_none(r['median_epoch_s'] for r in runs), 2)} "
                         f"| {fmt(median_or_none(r['elapsed_s'] for r in runs), 0)} |")
        ours = median_or_none(r["median_epoch_s"] for r in records if r["implementation"] == "ours-gcn"
                              and r["split"] == split)
        theirs = median_or_none(r["median_epoch_s"] for r in records if r["implementation"] == "dgllife"
                                and r["split"] == split)
        if ours and theirs:
            lines.append(f"| {split} | ours-gcn / dgllife epoch time | | **{ours / theirs:.2f}** | | | |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the folder of tox21.csv (default ../shared/data/tox21)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--splits", default="random,scaffold")
    parser.add_argument("--implementations", default="ours-gcn,dgllife,ours-gin,ours-gat")
    parser.add_argument("--epochs", type=int, help="cap the epochs of every run (default: each one's own)")
    parser.add_argument("--warmup", type=int, default=2, help="epochs left out of the medians")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS") or 2))
    add_quiet_arguments(parser)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "tox21")
    parser.add_argument("overrides", nargs="*", help="our jobs' hyperparameters key=value on top of the defaults")
    args = parser.parse_args(argv)
    seeds, splits = [int(s) for s in args.seeds.split(",")], args.splits.split(",")
    implementations = args.implementations.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for split in splits:
        for seed in seeds:
            for impl in implementations:
                records.append(run_one(impl, split, seed, args))
    summary = summarise(records, implementations, splits)
    header = (f"Tox21, {datetime.now():%Y-%m-%d %H:%M}, {machine_facts()}, threads {args.threads}, "
              f"overrides {args.overrides or 'none'}\n\n")
    (args.out / "summary.md").write_text(header + summary + "\n")
    (args.out / "results.json").write_text(json.dumps({"machine": machine_facts(), "records": records}, indent=2))
    print(header + summary)


if __name__ == "__main__":
    main()
