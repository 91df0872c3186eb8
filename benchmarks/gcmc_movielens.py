"""GCMC on MovieLens 100K (canonical u1 split): this package's job against a plain DGL loop.

For each seed the two run one after the other, each in its own process, so that load from other
processes hits both alike:

- ``ours``: the built-in job exactly as the container runs it: ``cli.lay_out_job`` writes an
  ``/opt/ml``-shaped folder with ``model=gcmc seed=S`` (the model's defaults, its benchmark
  configuration) and the ml-100k folder as channel ``train``; ``.venv/bin/train`` trains,
  validates every epoch, tests the selected epoch and saves the model. Epoch times come from
  ``metrics.json``: ``epoch_time`` (training step and validation) and ``epoch_train_time``.
- ``dgl``: ``gcmc_dgl_loop.py``, written the way DGL's ``examples/pytorch/gcmc/train.py`` runs
  ml-100k (one-hot features, stack accumulation); its epoch time is the training step plus
  validation plus the test evaluation it runs whenever validation improves.

Recorded per run: the median epoch time after ``--warmup`` epochs, the median training-step time,
epochs run, best epoch, test RMSE, wall time of the process, peak RSS and the CPU other processes
used meanwhile. The summary gives the medians over seeds and the ours/dgl ratios.

Usage (from the repository root)::

    .venv/bin/python benchmarks/gcmc_movielens.py --max-busy 0.3
    .venv/bin/python benchmarks/gcmc_movielens.py --seeds 0 --epochs 20   # smoke test

Output: a Markdown summary on stdout and in ``<out>/summary.md``, every run's record in
``<out>/results.json``, logs and job folders under ``<out>`` (default ``benchmarks/out/gcmc``).
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

DATA = REPO.parent / "shared" / "data" / "ml-100k"


def run_one(impl: str, seed: int, args) -> Dict[str, object]:
    tag = f"{impl}-seed{seed}"
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads))
    if impl == "ours":
        from sagemaker_dgl.cli import TRAINING_MODULE, lay_out_job

        base = args.out / "jobs" / tag
        base.mkdir(parents=True, exist_ok=True)
        hyperparameters = {"model": "gcmc", "seed": str(seed), **dict(o.split("=", 1) for o in args.overrides)}
        if args.epochs:
            hyperparameters["epochs"] = str(args.epochs)
        lay_out_job(base, hyperparameters, {"train": str(Path(args.data).resolve())})
        env.update(SAGEMAKER_BASE_DIR=str(base), SAGEMAKER_TRAINING_MODULE=TRAINING_MODULE)
        command = [str(REPO / ".venv" / "bin" / "train")]
    else:
        json_path = args.out / "runs" / f"{tag}.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        command = [str(REPO / ".venv" / "bin" / "python"), str(HERE / "gcmc_dgl_loop.py"), "--data", str(args.data),
                   "--seed", str(seed), "--threads", str(args.threads), "--json", str(json_path)]
        if args.epochs:
            command += ["--iterations", str(args.epochs + 1)]
    result, busy_before, attempts = run_quietly(command, tag, args.out / "logs", args, env=env, cwd=REPO)
    record: Dict[str, object] = dict(implementation=impl, seed=seed, elapsed_s=result.elapsed,
                                     max_rss_mib=result.max_rss_mib, others_cores=result.others_cores,
                                     busy_before=busy_before, attempts=attempts, threads=args.threads)
    if impl == "ours":
        metrics = json.loads((base / "output" / "data" / "metrics.json").read_text())
        history = metrics["history"]
        epoch_times = [row["epoch_time"] for row in history]
        train_times = [row["epoch_train_time"] for row in history]
        record.update(test_rmse=metrics["final"]["test_rmse"], best_epoch=metrics["final"]["best_epoch"])
    else:
        detail = json.loads(json_path.read_text())
        epoch_times = [row["epoch_time"] for row in detail["epochs"]]
        train_times = [row["train_time"] for row in detail["epochs"]]
        record.update(test_rmse=detail["test_rmse"], best_epoch=detail["best_iteration"])
    counted = slice(args.warmup, None) if len(epoch_times) > args.warmup else slice(None)
    record.update(epochs=len(epoch_times), median_epoch_ms=1000 * statistics.median(epoch_times[counted]),
                  median_train_ms=1000 * statistics.median(train_times[counted]))
    print(f"  {tag}: test RMSE {record['test_rmse']:.4f} (best epoch {record['best_epoch']} of {record['epochs']}), "
          f"epoch {record['median_epoch_ms']:.1f} ms, train step {record['median_train_ms']:.1f} ms, "
          f"wall {result.elapsed:.0f} s, others {result.others_cores:.2f} cores", flush=True)
    return record


def summarise(records: List[Dict[str, object]], seeds: List[int]) -> str:
    by = {(r["implementation"], r["seed"]): r for r in records}
    lines = ["| seed | ours test RMSE | dgl test RMSE | ours epoch ms | dgl epoch ms | ours/dgl epoch "
             "| ours train-step ms | dgl train-step ms | ours/dgl train step | ours epochs (best) | dgl epochs (best) "
             "| ours wall s | dgl wall s |", "|" + "---|" * 13]
    columns: Dict[str, List] = {}
    for seed in seeds:
        ours, dgl = by.get(("ours", seed)), by.get(("dgl", seed))
        row = {
            "ours rmse": ours and ours["test_rmse"], "dgl rmse": dgl and dgl["test_rmse"],
            "ours epoch": ours and ours["median_epoch_ms"], "dgl epoch": dgl and dgl["median_epoch_ms"],
            "epoch ratio": ours and dgl and ours["median_epoch_ms"] / dgl["median_epoch_ms"],
            "ours train": ours and ours["median_train_ms"], "dgl train": dgl and dgl["median_train_ms"],
            "train ratio": ours and dgl and ours["median_train_ms"] / dgl["median_train_ms"],
            "ours wall": ours and ours["elapsed_s"], "dgl wall": dgl and dgl["elapsed_s"],
        }
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
        epochs = [f"{r['epochs']} ({r['best_epoch']})" if r else "-" for r in (ours, dgl)]
        lines.append(f"| {seed} | {fmt(row['ours rmse'], 4)} | {fmt(row['dgl rmse'], 4)} | {fmt(row['ours epoch'], 1)} "
                     f"| {fmt(row['dgl epoch'], 1)} | {fmt(row['epoch ratio'], 2)} | {fmt(row['ours train'], 1)} "
                     f"| {fmt(row['dgl train'], 1)} | {fmt(row['train ratio'], 2)} | {epochs[0]} | {epochs[1]} "
                     f"| {fmt(row['ours wall'], 0)} | {fmt(row['dgl wall'], 0)} |")
    med = {key: median_or_none(values) for key, values in columns.items()}
    lines.append(f"| **median** | {fmt(med['ours rmse'], 4)} | {fmt(med['dgl rmse'], 4)} | {fmt(med['ours epoch'], 1)} "
                 f"| {fmt(med['dgl epoch'], 1)} | {fmt(med['epoch ratio'], 2)} | {fmt(med['ours train'], 1)} "
                 f"| {fmt(med['dgl train'], 1)} | {fmt(med['train ratio'], 2)} | | | {fmt(med['ours wall'], 0)} "
                 f"| {fmt(med['dgl wall'], 0)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the ml-100k folder (default ../shared/data/ml-100k)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--implementations", default="ours,dgl")
    parser.add_argument("--epochs", type=int, help="cap the epochs of both (default: each one's own, 2,000)")
    parser.add_argument("--warmup", type=int, default=5, help="epochs left out of the medians")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS") or 2))
    add_quiet_arguments(parser)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "gcmc")
    parser.add_argument("overrides", nargs="*", help="our job's hyperparameters key=value on top of the defaults")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for seed in seeds:
        for impl in args.implementations.split(","):
            records.append(run_one(impl, seed, args))
    summary = summarise(records, seeds)
    header = (f"GCMC on ml-100k u1, {datetime.now():%Y-%m-%d %H:%M}, {machine_facts()}, threads {args.threads}, "
              f"overrides {args.overrides or 'none'}\n\n")
    (args.out / "summary.md").write_text(header + summary + "\n")
    (args.out / "results.json").write_text(json.dumps({"machine": machine_facts(), "records": records}, indent=2))
    print(header + summary)


if __name__ == "__main__":
    main()
