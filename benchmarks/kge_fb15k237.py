"""Knowledge-graph embeddings (and R-GCN link prediction) on FB15k-237 through the `train` command.

Each run is one whole job, exactly as the container runs it: ``cli.lay_out_job`` writes an
``/opt/ml``-shaped folder with the model's defaults (its benchmark configuration) plus any
``key=value`` overrides, and ``.venv/bin/train`` trains, evaluates the whole test split in the
filtered setting and saves the model. Recorded per run: wall time, epochs, best epoch, training
seconds (the sum of ``epoch_train_time``: training only, validation excluded), training
throughput in triples per second (training triples x epochs / training seconds, counting each
triple once even when its reciprocal is trained too), the final metrics, peak RSS and the CPU
other processes used meanwhile. Appends one JSON line per run to ``<out>/kge_fb15k237.jsonl``
and prints a Markdown row.

Usage (from the repository root)::

    .venv/bin/python benchmarks/kge_fb15k237.py --model complex
    .venv/bin/python benchmarks/kge_fb15k237.py --model transe epochs=2 embedding_dim=50
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import machine_facts, run_measured, wait_for_quiet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN_TRIPLES = 272_115


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="transe, distmult, complex, rotate or rgcn")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "fb15k-237")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "kge")
    parser.add_argument("--max-busy", type=float, default=0.3, help="wait until others use fewer cores")
    parser.add_argument("overrides", nargs="*", help="hyperparameters key=value on top of the model's defaults")
    args = parser.parse_args(argv)

    from sagemaker_dgl.cli import lay_out_job

    overrides = dict(item.split("=", 1) for item in args.overrides)
    hyperparameters = {"task": "link_prediction", "model": args.model, **overrides}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = args.out / f"{args.model}-{stamp}"
    lay_out_job(base, hyperparameters, {"train": str(args.data.resolve())})
    busy = wait_for_quiet(args.max_busy)
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SAGEMAKER_TRAINING_MODULE": "sagemaker_dgl.training:main"}
    result = run_measured([str(ROOT / ".venv" / "bin" / "train")], log_path=base / "job.log", env=env,
                          on_line=lambda line: print(line) if ("epoch=" in line or "final" in line) else None)
    if result.returncode != 0:
        sys.exit(f"the job failed (exit {result.returncode}); see {base / 'job.log'}")
    metrics = json.loads((base / "output" / "data" / "metrics.json").read_text())
    config = json.loads((base / "model" / "model_config.json").read_text())
    history = metrics["history"]
    train_seconds = sum(row["epoch_train_time"] for row in history)
    record = {
        "model": args.model, "overrides": overrides, "hyperparameters": config["hyperparameters"],
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(result.launched)),
        "wall_s": round(result.elapsed, 1), "epochs": len(history), "best_epoch": metrics["final"]["best_epoch"],
        "train_s": round(train_seconds, 1), "triples_per_s": round(TRAIN_TRIPLES * len(history) / train_seconds),
        "final": metrics["final"], "peak_rss_mib": round(result.max_rss_mib), "others_cores": round(result.others_cores, 2),
        "busy_before": round(busy, 2), "machine": machine_facts(), "versions": config["versions"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "kge_fb15k237.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")
    final = metrics["final"]
    print("| model | epochs | wall | train s | triples/s | test MRR | MR | H@1 | H@3 | H@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.model} | {len(history)} (best {final['best_epoch']}) | {result.elapsed / 60:.1f} min | "
          f"{train_seconds:.0f} | {record['triples_per_s']:,} | {final['test_mrr']:.3f} | {final['test_mr']:.0f} | "
          f"{final['test_hits@1']:.3f} | {final['test_hits@3']:.3f} | {final['test_hits@10']:.3f} |")


if __name__ == "__main__":
    main()
