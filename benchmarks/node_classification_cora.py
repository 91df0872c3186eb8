"""GCN and GAT on Cora: this package's job against a plain DGL loop and PyTorch Geometric.

Runs every implementation as its own process, interleaved (repeat 1: ours, DGL, PyG, ...; repeat
2: ...), so that load from other processes on the machine hits all of them alike:

- ``ours-job``: ``sagemaker-dgl local ... model=M seed=S``, the job exactly as the container runs
  it (through ``train``); epoch times are the ``epoch_time=`` values of its log.
- ``ours-train``: the container's own command, ``train``, run directly on a job folder laid out as
  ``sagemaker-dgl local`` does it (start-up without the local launcher's own process).
- ``ours-inproc``: the same task, model and optimisation objects in one process (mirrors
  ``sagemaker_dgl.job.run_builtin`` and ``Trainer._train_epoch``), timing the training pass
  (``task.train_batches`` -> ``task.training_step`` -> ``Optimization.step``) and
  ``task.evaluate('val')`` apart, without the toolkit, the Trainer's bookkeeping or
  ``task.write_outputs``.
- ``dgl``: ``dgl_loop.py``, a plain DGL loop written as DGL's examples are.
- ``dgl-indrop`` (GCN only): the same with dropout on the input features, i.e. the same model as
  ours and PyG's (DGL's current GCN example drops out hidden features only).
- ``pyg``: ``pyg_loop.py`` in benchmarks/.venv-pyg (skipped when that venv is missing).

For every run it records the median epoch time over the epochs after ``--warmup``, test
accuracy, start-up time (launch to the ``epoch=1`` line), peak RSS (wait4 of the child) and how
many cores other processes used meanwhile. Results: ``<out>/results.json``, ``<out>/summary.md``
and the logs of every run under ``<out>/logs``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/node_classification_cora.py --data ../shared/data/cora --repeats 5
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _cora import start_profiler  # noqa: E402
from _measure import add_quiet_arguments, fmt, machine_facts, median_or_none, run_quietly  # noqa: E402

IMPLEMENTATIONS = ("ours-job", "ours-train", "ours-inproc", "dgl", "dgl-indrop", "pyg")


# ----------------------------------------------------------------------------- in-process worker
def inproc_worker(args) -> None:
    """Train with the package's own task and model objects; write per-epoch timings to --json."""
    imported_start = time.time()
    import torch

    from sagemaker_dgl.config import Hyperparameters
    from sagemaker_dgl.data import load_data
    from sagemaker_dgl.job import seed_everything
    from sagemaker_dgl.models import create_model
    from sagemaker_dgl.optim import Optimization
    from sagemaker_dgl.tasks import TASKS

    imported = time.time()
    hp = Hyperparameters.from_sagemaker({"model": args.model, "seed": str(args.seed), **dict(args.hp or [])})
    seed_everything(hp.common.seed)
    device = torch.device("cpu")
    channels = {"train": str(Path(args.data).resolve())}
    task_class = TASKS.get(hp.common.task)
    data = load_data(task_class, hp, channels)
    task = task_class(hp, data, channels, device)
    if args.dense and task.features.is_sparse:
        task.features = task.features.to_dense()
    model = create_model(hp.common.model, hp.common.task, **task.model_sizes(), **hp.model.model_dump()).to(device)
    optimization = Optimization(model, hp.common, task.objective)
    ready = time.time()

    profiler = start_profiler(args.profile)
    rows = []
    for epoch in range(1, hp.common.epochs + 1):
        t0 = time.perf_counter()
        # One training epoch as the Trainer runs it: the task's batches and loss, the trainer's step.
        model.train()
        loss_sum, count = 0.0, 0
        for batch in task.train_batches(epoch):
            step = task.training_step(model, batch)
            optimization.step(step.loss)
            loss_sum += step.metrics["train_loss"] * step.count
            count += step.count
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            val = task.evaluate(model, "val")
        t2 = time.perf_counter()
        optimization.end_epoch(val.get(task.objective.metric))  # lr schedule, if --hp lr_scheduler=... asks
        if profiler:
            profiler.step()
        row = dict(epoch=epoch, loss=loss_sum / count, val_accuracy=val["val_accuracy"], train_time=t1 - t0,
                   eval_time=t2 - t1, epoch_time=t2 - t0, wall=time.time())
        rows.append(row)
        print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    if profiler:
        profiler.stop()
        table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=30)
        print(table)
        if args.json:
            args.json.with_suffix(".profile.txt").write_text(table)
    model.eval()
    with torch.no_grad():
        test = task.evaluate(model, "test")
    print(f"test_accuracy={test['test_accuracy']:.4f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(dict(
            implementation="ours-inproc", model=args.model, seed=args.seed, dense=args.dense,
            features_sparse=bool(task.features.is_sparse), test_accuracy=test["test_accuracy"],
            import_started_wall=imported_start, imported_wall=imported, ready_wall=ready, epochs=rows,
            threads=torch.get_num_threads(),
        )))


# ----------------------------------------------------------------------------- parsing
def _log_time(line: str) -> Optional[float]:
    """Unix time of a ``logging`` line that starts ``2026-11-21 19:27:29,303``."""
    try:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return None


def _fields(text: str) -> Dict[str, str]:
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def parse_job(lines: List[str]) -> Dict[str, object]:
    """Per-epoch values, phase timestamps and final metrics from a ``sagemaker-dgl local`` log."""
    epochs, phases, final = [], {}, {}
    markers = {"INFO     Imported framework": "toolkit_ready", "sagemaker_dgl.job INFO     hyperparameters:": "job_started",
               "sagemaker_dgl.job INFO     data:": "data_ready", "sagemaker_dgl.job INFO     model ": "model_ready"}
    for line in lines:
        stamp = _log_time(line)
        if stamp is None:
            continue
        if "sagemaker_dgl.trainer" in line and " epoch=" in line:
            values = _fields(line.split(" INFO ", 1)[1])
            epochs.append(dict(epoch=int(values["epoch"]), epoch_time=float(values["epoch_time"]),
                               val_accuracy=float(values["val_accuracy"]), loss=float(values["train_loss"]),
                               wall=stamp))
        elif " final " in line:
            final = {k: float(v) for k, v in _fields(line.split(" final ", 1)[1]).items()}
        else:
            for marker, name in markers.items():
                if marker in line and name not in phases:
                    phases[name] = stamp
    return dict(epochs=epochs, phases=phases, final=final)


def parse_plain(lines: List[str]) -> List[Dict[str, float]]:
    rows = []
    for line in lines:
        if line.startswith("epoch="):
            values = _fields(line)
            rows.append({k: float(v) for k, v in values.items()})
    return rows


# ----------------------------------------------------------------------------- one run
def run_one(impl: str, model: str, seed: int, args, out: Path) -> Dict[str, object]:
    tag = f"{model}-{impl}-seed{seed}"
    json_path = out / "runs" / f"{tag}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    python = str(REPO / ".venv" / "bin" / "python")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    if impl == "ours-job":
        command = [str(REPO / ".venv" / "bin" / "sagemaker-dgl"), "local", "--base-dir", str(out / "jobs" / tag),
                   "--channel", f"train={Path(args.data).resolve()}", f"model={model}", f"seed={seed}"]
    elif impl == "ours-train":
        from sagemaker_dgl.cli import TRAINING_MODULE, lay_out_job

        base = out / "jobs" / tag
        base.mkdir(parents=True, exist_ok=True)
        lay_out_job(base, {"model": model, "seed": str(seed)}, {"train": str(Path(args.data).resolve())})
        env.update(SAGEMAKER_BASE_DIR=str(base), SAGEMAKER_TRAINING_MODULE=TRAINING_MODULE)
        command = [str(REPO / ".venv" / "bin" / "train")]
    elif impl == "ours-inproc":
        command = [python, str(HERE / "node_classification_cora.py"), "--worker", "inproc", "--data", args.data,
                   "--model", model, "--seed", str(seed), "--json", str(json_path)]
    elif impl in ("dgl", "dgl-indrop"):
        command = [python, str(HERE / "dgl_loop.py"), "--data", args.data, "--model", model, "--seed", str(seed),
                   "--json", str(json_path)] + (["--input-dropout"] if impl == "dgl-indrop" else [])
    elif impl == "pyg":
        command = [args.pyg_python, str(HERE / "pyg_loop.py"), "--data", args.data, "--model", model,
                   "--seed", str(seed), "--json", str(json_path)]
    else:
        raise ValueError(impl)
    result, idle_before, attempts = run_quietly(command, tag, out / "logs", args, env=env, cwd=REPO)
    record: Dict[str, object] = dict(
        implementation=impl, model=model, seed=seed, elapsed=result.elapsed, max_rss_mib=result.max_rss_mib,
        cpu_seconds=result.cpu_seconds, others_cores=result.others_cores, load_before=result.load_before,
        busy_before=idle_before, attempts=attempts,
    )
    if impl in ("ours-job", "ours-train"):
        parsed = parse_job(result.lines)
        epochs = parsed["epochs"]
        record["test_accuracy"] = parsed["final"].get("test_accuracy")
        record["best_epoch"] = parsed["final"].get("best_epoch")
        record["phases"] = {k: v - result.launched for k, v in parsed["phases"].items()}
        times = dict(epoch_time=[e["epoch_time"] for e in epochs])
    else:
        detail = json.loads(json_path.read_text())
        epochs = detail["epochs"]
        record["test_accuracy"] = detail["test_accuracy"]
        record["phases"] = {"imported": detail["imported_wall"] - result.launched,
                            "model_ready": detail["ready_wall"] - result.launched}
        times = {key: [e[key] for e in epochs] for key in ("epoch_time", "train_time", "eval_time")}
    w = args.warmup
    record["num_epochs"] = len(epochs)
    for key, values in times.items():
        record[f"median_{key}_ms"] = 1000 * statistics.median(values[w:])
    record["first_epoch_time"] = times["epoch_time"][0]
    record["startup_to_epoch1_line"] = epochs[0]["wall"] - result.launched
    record["startup_to_epoch1_start"] = epochs[0]["wall"] - times["epoch_time"][0] - result.launched
    walls = [e["wall"] for e in epochs]
    record["wall_per_epoch_ms"] = 1000 * (walls[-1] - walls[w - 1]) / (len(walls) - w) if len(walls) > w else None
    record["after_last_epoch"] = result.launched + result.elapsed - walls[-1]
    return record


# ----------------------------------------------------------------------------- summary
def summarise(records: List[Dict[str, object]], models: List[str], impls: List[str]) -> str:
    lines = []
    for model in models:
        by_impl = {impl: [r for r in records if r["model"] == model and r["implementation"] == impl] for impl in impls}
        by_impl = {k: v for k, v in by_impl.items() if v}
        lines.append(f"### {model.upper()}\n")
        lines.append("| implementation | runs | epoch ms (median of runs) | min-max of run medians | train ms | val-eval ms "
                     "| loop wall ms/epoch | test acc (median; all) | start-up to epoch=1 line s | peak RSS MiB "
                     "| others' cores |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for impl, runs in by_impl.items():
            medians = [r["median_epoch_time_ms"] for r in runs]
            accs = [r["test_accuracy"] for r in runs]
            lines.append(
                f"| {impl} | {len(runs)} | {fmt(median_or_none(medians), 2)} | {fmt(min(medians), 2)}-{fmt(max(medians), 2)} "
                f"| {fmt(median_or_none([r.get('median_train_time_ms') for r in runs]), 2)} "
                f"| {fmt(median_or_none([r.get('median_eval_time_ms') for r in runs]), 2)} "
                f"| {fmt(median_or_none([r['wall_per_epoch_ms'] for r in runs]), 2)} "
                f"| {fmt(median_or_none(accs), 3)}; {', '.join(fmt(a, 3) for a in accs)} "
                f"| {fmt(median_or_none([r['startup_to_epoch1_line'] for r in runs]), 2)} "
                f"| {fmt(median_or_none([r['max_rss_mib'] for r in runs]), 0)} "
                f"| {fmt(median_or_none([r['others_cores'] for r in runs]), 2)} |"
            )
        lines.append("")
        lines.append("| ratio (median epoch time) | median of run medians | median of per-seed ratios |")
        lines.append("|---|---|---|")
        for ours in ("ours-job", "ours-train", "ours-inproc"):
            for base in ("dgl", "dgl-indrop", "pyg"):
                if ours not in by_impl or base not in by_impl:
                    continue
                a = median_or_none([r["median_epoch_time_ms"] for r in by_impl[ours]])
                b = median_or_none([r["median_epoch_time_ms"] for r in by_impl[base]])
                base_by_seed = {r["seed"]: r["median_epoch_time_ms"] for r in by_impl[base]}
                paired = [r["median_epoch_time_ms"] / base_by_seed[r["seed"]] for r in by_impl[ours]
                          if r["seed"] in base_by_seed]
                lines.append(f"| {ours} / {base} | {a / b:.2f} | {fmt(median_or_none(paired), 2)} |")
        lines.append("")
        for kind in ("ours-job", "ours-train"):
            startup = by_impl.get(kind, [])
            if not startup:
                continue
            phases = {}
            for r in startup:
                for key, value in r["phases"].items():
                    phases.setdefault(key, []).append(value)
            lines.append(f"{kind} start-up phases (s after launch, median): " + ", ".join(
                f"{k} {statistics.median(v):.2f}" for k, v in phases.items())
                + f", epoch=1 line {statistics.median([r['startup_to_epoch1_line'] for r in startup]):.2f}"
                + f"; after the last epoch (test eval, export, save) {statistics.median([r['after_last_epoch'] for r in startup]):.2f}\n")
    return "\n".join(lines)


def versions(pyg_python: Optional[str]) -> Dict[str, str]:
    import subprocess

    found = {"python": platform.python_version()}
    code = "import torch, dgl; print(torch.__version__, dgl.__version__, torch.get_num_threads())"
    out = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", code], capture_output=True, text=True).stdout
    found["torch"], found["dgl"], found["torch_threads"] = out.split()
    if pyg_python:
        code = "import torch, torch_geometric; print(torch.__version__, torch_geometric.__version__)"
        out = subprocess.run([pyg_python, "-c", code], capture_output=True, text=True).stdout.split()
        if out:
            found["pyg_venv_torch"], found["torch_geometric"] = out
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "cora"),
                        help="folder with ind.cora.* (default: ../shared/data/cora)")
    parser.add_argument("--models", default="gcn,gat")
    parser.add_argument("--implementations", default=",".join(IMPLEMENTATIONS))
    parser.add_argument("--repeats", type=int, default=3, help="runs of each implementation; seed = 0..repeats-1")
    parser.add_argument("--warmup", type=int, default=10, help="epochs left out of the median")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for every run (default: torch's choice)")
    add_quiet_arguments(parser)
    parser.add_argument("--pyg-python", default=str(HERE / ".venv-pyg" / "bin" / "python"))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "cora")
    # worker mode (used by the driver itself)
    parser.add_argument("--worker", choices=["inproc"], help=argparse.SUPPRESS)
    parser.add_argument("--model", default="gcn", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dense", action="store_true", help="inproc worker: densify the input features")
    parser.add_argument("--profile", action="store_true", help="inproc worker: torch.profiler table of 50 epochs")
    parser.add_argument("--hp", nargs="*", type=lambda s: tuple(s.split("=", 1)), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "inproc":
        inproc_worker(args)
        return

    models = args.models.split(",")
    impls = [i for i in args.implementations.split(",") if i]
    if "pyg" in impls and not Path(args.pyg_python).exists():
        print(f"skipping pyg: {args.pyg_python} not found (see benchmarks/README.md)", file=sys.stderr)
        impls.remove("pyg")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = dict(machine=machine_facts(), versions=versions(args.pyg_python if "pyg" in impls else None),
                command=" ".join([sys.executable] + sys.argv), started=datetime.now().isoformat(timespec="seconds"),
                threads=args.threads, warmup=args.warmup, max_busy=args.max_busy)
    print(json.dumps(meta), flush=True)
    records = []
    for seed in range(args.repeats):
        for model in models:
            for impl in impls:
                if impl == "dgl-indrop" and model != "gcn":
                    continue
                record = run_one(impl, model, seed, args, args.out)
                records.append(record)
                print(f"{model:4s} {impl:12s} seed={seed} epoch={record['median_epoch_time_ms']:.2f}ms "
                      f"startup={record['startup_to_epoch1_line']:.2f}s rss={record['max_rss_mib']:.0f}MiB "
                      f"test={record['test_accuracy']:.3f} others={record['others_cores']:.2f} cores", flush=True)
                (args.out / "results.json").write_text(json.dumps(dict(meta=meta, runs=records), indent=1))
    meta["finished"] = datetime.now().isoformat(timespec="seconds")
    summary = summarise(records, models, impls)
    (args.out / "results.json").write_text(json.dumps(dict(meta=meta, runs=records), indent=1))
    (args.out / "summary.md").write_text(summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
