"""R-GCN entity classification on AIFB and MUTAG: this package's job against a plain DGL loop.

Every run is its own process; for each seed and dataset the implementations run one after the
other, so that load from other processes hits all of them alike:

- ``ours``: the package's built-in job exactly as the container runs it: ``cli.lay_out_job``
  writes an ``/opt/ml``-shaped folder with ``task=entity_classification model=rgcn seed=S`` (the
  model's defaults: the paper's relational input layer on one-hot entities, 2 layers, hidden
  16, ``num_bases=30``, self loop, no dropout, Adam lr 0.01, weight decay 5e-4, 50 epochs,
  ``val_fraction=0``: train on every training entity, keep the last epoch) and
  ``.venv/bin/train`` runs it. Epoch times come from ``output/data/metrics.json``'s
  ``history``: ``epoch_train_time`` (the training pass) and ``epoch_time`` (the same: with
  ``val_fraction=0`` the validation split is empty and the job runs no validation pass).
- ``ours-emb``: the same job with ``input_layer=embedding num_bases=<num_rels> self_loop=false``:
  the model of DGL's example (an ``nn.Embedding`` row per entity, then two ``RelGraphConv``
  with as many bases as relations and no self loop), so ``ours-emb / dgl`` compares the two
  training loops on one model.
- ``dgl``: ``rgcn_dgl_loop.py``, a plain DGL loop written as DGL 1.1's
  ``examples/pytorch/rgcn/entity.py`` (its model, its ``norm_by_dst`` normalisation and
  ``to_homogeneous``, no per-epoch evaluation) on the same graph as our job (rebuilt with
  rdflib: 8,285 / 23,644 entities, literals included, relations and their inverses, label
  predicates removed). Epoch time = its training step.
- ``dgl-dataset``: the same loop on DGL's own ``AIFBDataset`` / ``MUTAGDataset`` graph (DGL's
  pipeline run offline on the local files; a different, typed graph: see rgcn_dgl_loop.py).
- ``dgl-ourhp`` (not run by default): the DGL loop with this package's ``num_bases=30`` and self
  loop (still DGL's embedding input).

The two models differ: DGL's example has no one-hot input layer (``RelGraphConv`` takes dense
features only), so it learns an embedding table (num_nodes x 16) and runs two ``RelGraphConv``
layers on it with ``num_bases = num_rels`` (90 for AIFB, 46 for MUTAG) and no self loop; ours
(``input_layer=relational``) makes the first layer's per-relation ``num_nodes x 16`` tables out
of 30 shared basis tables and adds a self-loop table, as the R-GCN paper's one-hot input does
(AIFB: 4.1 M parameters against DGL's 0.18 M; MUTAG: 11.7 M against 0.40 M).

Per run: the median epoch time over epochs ``--warmup``+1 .. 50 (default 6-50), the median
training-pass time, test accuracy (last epoch's model), wall time of the process, peak RSS
(wait4) and the CPU other processes used meanwhile. Threads: ``OMP_NUM_THREADS=--threads`` for
every child and ``torch.set_num_threads(--threads)`` in the DGL loop (default: ``$OMP_NUM_THREADS``,
else 2).

Usage (from the repository root)::

    .venv/bin/python benchmarks/rgcn_entity_classification.py --max-busy 0.3
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rgcn_entity_classification.py --epochs 3 --seeds 0   # smoke test

Output: Markdown tables on stdout and in ``<out>/summary.md``; ``<out>/results.json`` (every
run's record and the meta data); logs, job folders and the DGL loop's JSON under ``<out>``
(default ``benchmarks/out/rgcn``).
"""
import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _measure import add_quiet_arguments, fmt, machine_facts, median_or_none, run_quietly  # noqa: E402

DATA = {"aifb": REPO.parent / "shared" / "data" / "aifb", "mutag": REPO.parent / "shared" / "data" / "mutag"}
IMPLEMENTATIONS = ("ours", "ours-emb", "dgl", "dgl-dataset")
OPTIONAL = ("dgl-ourhp",)
#: Relations with their inverses in our graph (the job logs it; used only before it has run once).
KNOWN_NUM_RELATIONS = {"aifb": 90, "mutag": 46}
RATIOS = (("ours", "dgl"), ("ours-emb", "dgl"), ("ours", "dgl-dataset"), ("ours", "dgl-ourhp"))


# ----------------------------------------------------------------------------- one run
def num_relations(dataset: str, records: List[Dict[str, object]]) -> int:
    for record in records:
        if record["dataset"] == dataset and record.get("num_relations"):
            return int(record["num_relations"])
    return KNOWN_NUM_RELATIONS[dataset]


def run_one(impl: str, dataset: str, seed: int, args, records: List[Dict[str, object]]) -> Dict[str, object]:
    out = args.out
    tag = f"{dataset}-{impl}-seed{seed}"
    data = Path(getattr(args, dataset)).resolve()
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=str(args.threads))
    base = out / "jobs" / tag
    json_path = out / "runs" / f"{tag}.json"
    if impl in ("ours", "ours-emb"):
        from sagemaker_dgl.cli import TRAINING_MODULE, lay_out_job

        hyperparameters = {"task": "entity_classification", "model": "rgcn", "seed": str(seed),
                           "epochs": str(args.epochs)}
        if impl == "ours-emb":
            hyperparameters.update(input_layer="embedding", num_bases=str(num_relations(dataset, records)),
                                   self_loop="false")
        base.mkdir(parents=True, exist_ok=True)
        lay_out_job(base, hyperparameters, {"train": str(data)})
        env.update(SAGEMAKER_BASE_DIR=str(base), SAGEMAKER_TRAINING_MODULE=TRAINING_MODULE)
        command = [str(REPO / ".venv" / "bin" / "train")]
    else:
        command = [str(REPO / ".venv" / "bin" / "python"), str(HERE / "rgcn_dgl_loop.py"), "--data", str(data),
                   "--dataset", dataset, "--seed", str(seed), "--epochs", str(args.epochs),
                   "--threads", str(args.threads), "--json", str(json_path),
                   "--dgl-raw-dir", str(out / "dgl-raw")]
        if impl == "dgl-dataset":
            command += ["--graph", "dgl"]
        if impl == "dgl-ourhp":
            command += ["--num-bases", "30", "--self-loop"]
        json_path.unlink(missing_ok=True)
    result, busy_before, attempts = run_quietly(command, tag, out / "logs", args, env=env, cwd=REPO)
    record: Dict[str, object] = dict(
        implementation=impl, dataset=dataset, seed=seed, elapsed_s=result.elapsed, max_rss_mib=result.max_rss_mib,
        cpu_seconds=result.cpu_seconds, others_cores=result.others_cores, busy_before=busy_before,
        attempts=attempts, threads=args.threads,
    )
    if impl in ("ours", "ours-emb"):
        metrics = json.loads((base / "output" / "data" / "metrics.json").read_text())
        config = json.loads((base / "model" / "model_config.json").read_text())
        history = metrics["history"]
        epoch_times = [row["epoch_time"] for row in history]
        train_times = [row["epoch_train_time"] for row in history]
        hp = config["hyperparameters"]
        facts = config["data"]
        record.update(
            test_accuracy=metrics["final"]["test_accuracy"], num_nodes=facts["num_entities"],
            num_edges=2 * facts["num_triples"], num_relations=facts["num_relations"],
            model={key: hp[key] for key in ("input_layer", "hidden_size", "num_layers", "num_bases", "self_loop",
                                            "dropout", "lr", "weight_decay", "epochs", "val_fraction")},
            num_parameters=next((int(line.split(": ", 1)[1].split()[0]) for line in result.lines
                                 if "sagemaker_dgl.job INFO     model " in line and " parameters" in line), None),
            versions=config.get("versions"),
        )
        if impl == "ours-emb" and facts["num_relations"] != int(hp["num_bases"]):
            print(f"  warning: {tag} ran num_bases={hp['num_bases']} but the graph has {facts['num_relations']} "
                  "relations", flush=True)
    else:
        detail = json.loads(json_path.read_text())
        epoch_times = train_times = [row["epoch_time"] for row in detail["epochs"]]
        record.update(
            test_accuracy=detail["test_accuracy"], num_nodes=detail["num_nodes"], num_edges=detail["num_edges"],
            num_relations=detail["num_rels"] if impl != "dgl-dataset" else None, num_rels=detail["num_rels"],
            model=dict(input_layer="embedding", num_bases=detail["num_bases"], self_loop=detail["self_loop"]),
            num_parameters=detail["num_parameters"], torch_threads=detail["threads"], versions=detail["versions"],
            startup_s=detail["ready_wall"] - result.launched,
        )
    w = args.warmup
    record["num_epochs"] = len(epoch_times)
    counted = slice(w, None) if len(epoch_times) > w else slice(None)  # short smoke runs: every epoch
    record["median_epoch_ms"] = 1000 * statistics.median(epoch_times[counted])
    record["median_train_ms"] = 1000 * statistics.median(train_times[counted])
    record["first_epoch_ms"] = 1000 * epoch_times[0]
    record["epoch_ms"] = [round(1000 * t, 3) for t in epoch_times]
    record["train_ms"] = [round(1000 * t, 3) for t in train_times]
    return record


# ----------------------------------------------------------------------------- summary
def summarise(records: List[Dict[str, object]], datasets: List[str], impls: List[str], seeds: List[int]) -> str:
    lines = []
    for dataset in datasets:
        runs = {impl: {r["seed"]: r for r in records if r["dataset"] == dataset and r["implementation"] == impl}
                for impl in impls}
        runs = {impl: by_seed for impl, by_seed in runs.items() if by_seed}
        if not runs:
            continue
        lines.append(f"### {dataset.upper()}\n")
        lines.append("| implementation | model | nodes / edges / edge types | parameters | runs | epoch ms (median of runs) "
                     "| train-pass ms | test acc (median; seeds) | process wall s | peak RSS MiB | others' cores |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for impl, by_seed in runs.items():
            rs = list(by_seed.values())
            m = rs[0]["model"]
            model = (f"{m['input_layer']}, bases {m['num_bases']}, self loop {'yes' if m['self_loop'] else 'no'}")
            accs = [r["test_accuracy"] for r in rs]
            edge_types = rs[0].get("num_rels") or rs[0]["num_relations"]
            lines.append(
                f"| {impl} | {model} | {rs[0]['num_nodes']:,} / {rs[0]['num_edges']:,} / {edge_types} "
                f"| {format(rs[0]['num_parameters'], ',') if rs[0]['num_parameters'] else '-'} | {len(rs)} "
                f"| {fmt(median_or_none([r['median_epoch_ms'] for r in rs]), 2)} "
                f"| {fmt(median_or_none([r['median_train_ms'] for r in rs]), 2)} "
                f"| {fmt(median_or_none(accs), 3)}; {', '.join(fmt(a, 3) for a in accs)} "
                f"| {fmt(median_or_none([r['elapsed_s'] for r in rs]), 1)} "
                f"| {fmt(median_or_none([r['max_rss_mib'] for r in rs]), 0)} "
                f"| {fmt(median_or_none([r['others_cores'] for r in rs]), 2)} |")
        lines.append("")
        # per seed: epoch ms and accuracy of every implementation, and the ratios
        pairs = [(a, b) for a, b in RATIOS if a in runs and b in runs]
        header = ["seed"] + [f"{impl} epoch ms" for impl in runs]
        header += [f"{a}/{b} epoch" for a, b in pairs] + [f"{a}/{b} train-pass" for a, b in pairs if a.startswith("ours")]
        header += [f"{impl} test acc" for impl in runs]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        columns: Dict[str, List[Optional[float]]] = {h: [] for h in header[1:]}
        for seed in seeds:
            row = {}
            for impl, by_seed in runs.items():
                r = by_seed.get(seed)
                row[f"{impl} epoch ms"] = r and r["median_epoch_ms"]
                row[f"{impl} test acc"] = r and r["test_accuracy"]
            for a, b in pairs:
                ra, rb = runs[a].get(seed), runs[b].get(seed)
                row[f"{a}/{b} epoch"] = ra and rb and ra["median_epoch_ms"] / rb["median_epoch_ms"]
                if a.startswith("ours"):
                    row[f"{a}/{b} train-pass"] = ra and rb and ra["median_train_ms"] / rb["median_train_ms"]
            for key in columns:
                columns[key].append(row.get(key))
            lines.append("| " + " | ".join([str(seed)] + [fmt(row.get(h), 3 if ("acc" in h or "/" in h) else 2)
                                                        for h in header[1:]]) + " |")
        lines.append("| **median** | " + " | ".join(fmt(median_or_none(columns[h]), 3 if ("acc" in h or "/" in h) else 2)
                                                    for h in header[1:]) + " |")
        lines.append("")
        lines.append("| ratio | epoch time: ratio of medians | epoch time: median of per-seed ratios "
                     "| train pass: ratio of medians | train pass: median of per-seed ratios |")
        lines.append("|---|---|---|---|---|")
        for a, b in pairs:
            cells = []
            for key in ("median_epoch_ms", "median_train_ms"):
                ma = median_or_none([r[key] for r in runs[a].values()])
                mb = median_or_none([r[key] for r in runs[b].values()])
                paired = [runs[a][s][key] / runs[b][s][key] for s in runs[a] if s in runs[b]]
                cells += [f"{ma / mb:.2f}", fmt(median_or_none(paired), 2)]
            lines.append(f"| {a} / {b} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Epoch ms: median over epochs after the warm-up of each run, then the median over seeds. "
                 "Ours: `epoch_time` (the training pass: with val_fraction=0 there is no validation pass); "
                 "train-pass ms: `epoch_train_time`. DGL loop: its training step (it evaluates nothing "
                 "per epoch), so both columns are the same for it.")
    return "\n".join(lines)


def versions() -> Dict[str, str]:
    import importlib.metadata as metadata

    found = {"python": sys.version.split()[0]}
    for package in ("torch", "dgl", "rdflib", "sagemaker-dgl"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="aifb,mutag")
    parser.add_argument("--aifb", default=str(DATA["aifb"]), help="AIFB folder (default ../shared/data/aifb)")
    parser.add_argument("--mutag", default=str(DATA["mutag"]), help="MUTAG folder (default ../shared/data/mutag)")
    parser.add_argument("--implementations", default=",".join(IMPLEMENTATIONS),
                        help=f"comma-separated, of {', '.join(IMPLEMENTATIONS + OPTIONAL)}")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds, or a range like 0-4")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5, help="epochs left out of the median (default: 5, so 6-50)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS") or 2),
                        help="OMP_NUM_THREADS and torch threads of every run (default: $OMP_NUM_THREADS, else 2)")
    add_quiet_arguments(parser)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "rgcn")
    args = parser.parse_args(argv)
    if "-" in args.seeds and "," not in args.seeds:
        first, last = args.seeds.split("-")
        seeds = list(range(int(first), int(last) + 1))
    else:
        seeds = [int(s) for s in args.seeds.split(",") if s]
    datasets = [d for d in args.datasets.split(",") if d]
    impls = [i for i in args.implementations.split(",") if i]
    unknown = [i for i in impls if i not in IMPLEMENTATIONS + OPTIONAL] + [d for d in datasets if d not in DATA]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    meta = dict(machine=machine_facts(), versions=versions(), command=" ".join([sys.executable] + sys.argv),
                started=datetime.now().isoformat(timespec="seconds"), threads=args.threads, warmup=args.warmup,
                epochs=args.epochs, seeds=seeds, max_busy=args.max_busy)
    print(json.dumps(meta), flush=True)
    records: List[Dict[str, object]] = []
    started = time.time()
    for seed in seeds:
        for dataset in datasets:
            for impl in impls:
                record = run_one(impl, dataset, seed, args, records)
                records.append(record)
                print(f"{dataset:5s} {impl:11s} seed={seed} epoch={record['median_epoch_ms']:.2f}ms "
                      f"train={record['median_train_ms']:.2f}ms test={record['test_accuracy']:.3f} "
                      f"wall={record['elapsed_s']:.1f}s rss={record['max_rss_mib']:.0f}MiB "
                      f"others={record['others_cores']:.2f} cores", flush=True)
                (args.out / "results.json").write_text(json.dumps(dict(meta=meta, runs=records), indent=1))
    meta["finished"] = datetime.now().isoformat(timespec="seconds")
    meta["wall_s"] = round(time.time() - started, 1)
    summary = summarise(records, datasets, impls, seeds)
    (args.out / "results.json").write_text(json.dumps(dict(meta=meta, runs=records), indent=1))
    (args.out / "summary.md").write_text(summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
