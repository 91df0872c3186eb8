"""DGMG on cycles: the job's benchmark figure and its time per training graph against DGL's example.

In one run, one process after the other:

- ``ours``: the package's built-in job as the container runs it (``cli.lay_out_job`` writes an
  ``/opt/ml``-shaped folder with ``model=dgmg seed=S test_samples=--test-samples``, every other
  hyperparameter the model's default: 20 epochs of 500 cycles drawn anew each epoch, batches of
  10, Adam lr 5e-4, gradients clipped to 0.25, 300 validation samples every 2 epochs, the
  best-validated epoch kept) and ``.venv/bin/train`` runs it. Reports the test validity,
  uniqueness, novelty and mean size of ``--test-samples`` samples, the kept epoch, the wall
  time, and the time per training graph: the median over epochs of ``epoch_train_time`` / 500
  (the training pass, graph drawing included; validation excluded).
- ``dgl``: ``dgmg_dgl_loop.py``, DGL's example loop (one graph at a time, a backward per
  graph, a step every 10) on DGL-LifeSci's unchanged ``DGMG``, ``--loop-graphs`` graphs.
- ``dgl-edges``: the same loop with this package's message passing over the edge list, so that
  ``ours / dgl-edges`` is the loop alone and ``dgl-edges / dgl`` the message passing alone.

Threads: ``OMP_NUM_THREADS=--threads`` for every child (default: ``$OMP_NUM_THREADS``, else 2).

Usage (from the repository root)::

    .venv/bin/python benchmarks/dgmg_cycles.py --max-busy 0.3            # about 45 minutes
    .venv/bin/python benchmarks/dgmg_cycles.py --epochs 2 --test-samples 100 --loop-graphs 100   # smoke test

Output: a Markdown table on stdout and in ``<out>/summary.md``; ``<out>/results.json``; logs and
the job folder under ``<out>`` (default ``benchmarks/out/dgmg``).
"""
import argparse
import json
import os
import statistics
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _measure import add_quiet_arguments, fmt, machine_facts, run_quietly  # noqa: E402


def run_ours(args, env):
    from sagemaker_dgl.cli import TRAINING_MODULE, lay_out_job

    base = args.out / "jobs" / f"ours-seed{args.seed}"
    hyperparameters = {"model": "dgmg", "seed": str(args.seed), "test_samples": str(args.test_samples)}
    if args.epochs:
        hyperparameters["epochs"] = str(args.epochs)
    base.mkdir(parents=True, exist_ok=True)
    lay_out_job(base, hyperparameters, {})
    env = dict(env, SAGEMAKER_BASE_DIR=str(base), SAGEMAKER_TRAINING_MODULE=TRAINING_MODULE)
    result, _, attempts = run_quietly([str(REPO / ".venv" / "bin" / "train")], f"ours-seed{args.seed}",
                                      args.out / "logs", args, env=env, cwd=REPO)
    metrics = json.loads((base / "output" / "data" / "metrics.json").read_text())
    config = json.loads((base / "model" / "model_config.json").read_text())
    graphs_per_epoch = int(config["hyperparameters"]["graphs_per_epoch"])
    final = metrics["final"]
    return dict(implementation="ours", elapsed_s=result.elapsed, others_cores=result.others_cores,
                attempts=attempts, max_rss_mib=result.max_rss_mib,
                time_per_graph_s=statistics.median(row["epoch_train_time"] for row in metrics["history"])
                / graphs_per_epoch,
                epochs=len(metrics["history"]), best_epoch=metrics["final"]["best_epoch"],
                **{key: final[key] for key in final if key.startswith(("test_", "val_"))})


def run_loop(args, env, propagation: str):
    tag = "dgl" if propagation == "library" else "dgl-edges"
    json_path = args.out / "runs" / f"{tag}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(REPO / ".venv" / "bin" / "python"), str(HERE / "dgmg_dgl_loop.py"), "--graphs",
               str(args.loop_graphs), "--seed", str(args.seed), "--threads", str(args.threads),
               "--propagation", propagation, "--json", str(json_path)]
    result, _, attempts = run_quietly(command, tag, args.out / "logs", args, env=env, cwd=REPO)
    return dict(implementation=tag, elapsed_s=result.elapsed, others_cores=result.others_cores,
                attempts=attempts, max_rss_mib=result.max_rss_mib, **json.loads(json_path.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, help="override the model's default (smoke tests)")
    parser.add_argument("--loop-graphs", type=int, default=500, help="graphs the DGL loops train on")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "dgmg")
    add_quiet_arguments(parser)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads))
    started = datetime.now()
    records = [run_ours(args, env), run_loop(args, env, "library"), run_loop(args, env, "edges")]
    by_name = {record["implementation"]: record for record in records}
    ours = by_name["ours"]
    lines = [f"DGMG cycles, seed {args.seed}, {args.threads} threads, started {started:%Y-%m-%d %H:%M}", "",
             f"ours: test_validity={ours['test_validity']:.4f} test_uniqueness={ours['test_uniqueness']:.4f} "
             f"test_novelty={ours['test_novelty']:.4f} test_mean_nodes={ours['test_mean_nodes']:.2f} "
             f"on {args.test_samples} samples; kept epoch {ours['best_epoch']} of {ours['epochs']}; "
             f"wall {ours['elapsed_s'] / 60:.1f} min", "",
             "| implementation | ms per training graph | ours / this | others' cores |", "|---|---|---|---|"]
    for record in records:
        ratio = ours["time_per_graph_s"] / record["time_per_graph_s"]
        lines.append(f"| {record['implementation']} | {fmt(1000 * record['time_per_graph_s'])} | {ratio:.2f} "
                     f"| {fmt(record['others_cores'], 2)} |")
    summary = "\n".join(lines)
    print(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(summary + "\n")
    (args.out / "results.json").write_text(json.dumps({"machine": machine_facts(), "records": records,
                                                       "args": {k: str(v) for k, v in vars(args).items()}},
                                                      indent=1))


if __name__ == "__main__":
    main()
