"""GraphSAGE with neighbour sampling on a generated graph of 1M nodes and 20M edges, on 2 cores.

It runs this package's built-in job, ``sagemaker_dgl.job.run_builtin`` (hyperparameters -> task
-> model -> Trainer -> test evaluation -> write_outputs -> saved model), on a graph generated in memory:
the job's ``load_data`` is replaced by the generator, so no multi-GB CSV has to be written and
parsed. Everything after loading is the package's code path, unchanged: the
``node_classification`` task with ``fanouts`` (DGL ``NeighborSampler`` + ``DataLoader``),
``create_model('graphsage', ...)``, the ``Trainer`` (validation every epoch), and evaluation by
exact layer-wise full-neighbour inference over all nodes.

The graph is a planted partition (stochastic-block-model-like): every node gets one of
``--classes`` classes; each undirected edge starts at a uniform node and, with probability
``--homophily``, ends at a node of the same class, else at a uniform node. Features are noisy class
indicators: a random class centroid plus Gaussian noise (``--noise``), so that a node's own
features identify its class only about half the time (nearest-centroid accuracy ~0.5 at the
default noise) and aggregating sampled neighbours is what makes the labels learnable.

Measures: generation and set-up time, per-epoch training time (``Trainer._train_epoch``: the
task's sampled batches and loss, backward and optimiser step), evaluation time
(``task.evaluate``: full layer-wise inference), ``task.write_outputs`` time (embeddings of all
nodes and their plot), peak RSS (``getrusage``) and RSS after each phase, and the accuracies. Writes
``<out>/graphsage_large.json`` and prints a Markdown summary.

Usage (from the repository root)::

    .venv/bin/python benchmarks/graphsage_large.py                 # 1M nodes, 10M undirected = 20M edges
    .venv/bin/python benchmarks/graphsage_large.py --epochs 1 fanouts=5,5 batch_size=2048
"""
import argparse
import functools
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import _busy_seconds as busy_seconds, machine_facts  # noqa: E402


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib() -> dict:
    """Current and peak resident set of this process, MiB (from /proc/self/status)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":")
            values[key] = int(value.split()[0]) / 1024
    return {"rss_mib": round(values.get("VmRSS", 0)), "peak_rss_mib": round(values.get("VmHWM", 0))}


def generate(num_nodes: int, num_pairs: int, num_classes: int, num_feats: int, homophily: float, noise: float,
             train: float, val: float, test: float, seed: int):
    """A planted-partition graph as a DGLGraph with feat/label/train_mask/val_mask/test_mask."""
    import dgl

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_nodes)
    by_class = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=num_classes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    src = rng.integers(0, num_nodes, num_pairs)
    dst = rng.integers(0, num_nodes, num_pairs)  # inter-class (uniform) end, replaced below for intra-class edges
    intra = np.flatnonzero(rng.random(num_pairs) < homophily)
    cls = labels[src[intra]]
    dst[intra] = by_class[starts[cls] + (rng.random(len(intra)) * sizes[cls]).astype(np.int64)]
    del intra, cls, by_class
    keep = src != dst
    src, dst = src[keep], dst[keep]
    del keep
    graph = dgl.graph((torch.from_numpy(np.concatenate([src, dst])), torch.from_numpy(np.concatenate([dst, src]))),
                      num_nodes=num_nodes)
    del src, dst

    centroids = rng.standard_normal((num_classes, num_feats), dtype=np.float32)
    features = np.empty((num_nodes, num_feats), dtype=np.float32)
    for begin in range(0, num_nodes, 1 << 17):  # in chunks: no float64 temporary of the whole matrix
        end = min(begin + (1 << 17), num_nodes)
        features[begin:end] = centroids[labels[begin:end]]
        features[begin:end] += noise * rng.standard_normal((end - begin, num_feats), dtype=np.float32)
    graph.ndata["feat"] = torch.from_numpy(features)
    graph.ndata["label"] = torch.from_numpy(labels)
    order = rng.permutation(num_nodes)
    bounds = np.cumsum([0, int(train * num_nodes), int(val * num_nodes), int(test * num_nodes)])
    for index, split in enumerate(("train", "val", "test")):
        mask = torch.zeros(num_nodes, dtype=torch.bool)
        mask[torch.from_numpy(order[bounds[index]:bounds[index + 1]])] = True
        graph.ndata[f"{split}_mask"] = mask

    # How informative a node's own features are: nearest-centroid accuracy on a sample.
    sample = rng.choice(num_nodes, 20000, replace=False)
    distances = ((features[sample, None, :] - centroids[None]) ** 2).sum(-1)
    own_accuracy = float((distances.argmin(1) == labels[sample]).mean())
    return graph, own_accuracy


def timed(owner, attribute: str, log: list, name: str = None):
    """Wrap method ``owner.attribute`` so that every call appends (name, seconds, rss after) to ``log``;
    ``name`` (the label in the log and the report) defaults to ``attribute``."""
    original = getattr(owner, attribute)
    name = name or attribute

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started, busy, cpu = time.perf_counter(), busy_seconds(), _cpu_seconds()
        result = original(*args, **kwargs)
        seconds = time.perf_counter() - started
        others = max(0.0, (busy_seconds() - busy) - (_cpu_seconds() - cpu)) / max(seconds, 1e-9)
        entry = {"call": name, "seconds": round(seconds, 3), "others_cores": round(others, 2), **rss_mib()}
        if name == "evaluate":
            entry["split"] = args[2] if len(args) > 2 else kwargs.get("split")
        log.append(entry)
        print(f"[bench] {name}{'(' + entry['split'] + ')' if 'split' in entry else ''}: {seconds:.2f} s, "
              f"rss {entry['rss_mib']} MiB, peak {entry['peak_rss_mib']} MiB, "
              f"other processes used {others:.2f} cores meanwhile", flush=True)
        return result

    setattr(owner, attribute, wrapper)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hyperparameters", nargs="*", metavar="KEY=VALUE",
                        help="job hyperparameters on top of the defaults below (e.g. hidden_size=64)")
    parser.add_argument("--num-nodes", type=int, default=1_000_000)
    parser.add_argument("--num-pairs", type=int, default=10_000_000,
                        help="undirected edges; the graph holds both directions (default: 10M -> 20M edges)")
    parser.add_argument("--classes", type=int, default=16)
    parser.add_argument("--feats", type=int, default=128)
    parser.add_argument("--homophily", type=float, default=0.8, help="share of edges generated inside a class")
    parser.add_argument("--noise", type=float, default=7.0, help="std of the Gaussian noise on the class centroid")
    parser.add_argument("--split", default="0.1,0.05,0.1", help="train,val,test shares of all nodes")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "graphsage_large")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    import dgl

    import sagemaker_dgl.job as job
    from sagemaker_dgl.data import GraphData
    from sagemaker_dgl.tasks import TASKS
    from sagemaker_dgl.trainer import Trainer

    hyperparameters = {"model": "graphsage", "fanouts": "10,10", "batch_size": "1024", "num_workers": "0",
                       "epochs": str(args.epochs), "seed": str(args.seed), "save_checkpoints": "false"}
    hyperparameters.update(dict(item.split("=", 1) for item in args.hyperparameters))

    report = {"machine": machine_facts(), "torch": torch.__version__, "dgl": dgl.__version__,
              "threads": torch.get_num_threads(), "command": " ".join([sys.executable] + sys.argv),
              "hyperparameters": hyperparameters, "generator": {k: v for k, v in vars(args).items()
                                                               if k not in ("hyperparameters", "out")}}
    report["generator"]["out"] = str(args.out)
    started = time.perf_counter()
    train, val, test = (float(x) for x in args.split.split(","))
    graph, own_accuracy = generate(args.num_nodes, args.num_pairs, args.classes, args.feats, args.homophily,
                                   args.noise, train, val, test, args.seed)
    report["generate_seconds"] = round(time.perf_counter() - started, 2)
    report["graph"] = {"num_nodes": graph.num_nodes(), "num_edges": graph.num_edges(),
                       "undirected_pairs": graph.num_edges() // 2, "feats": args.feats, "classes": args.classes,
                       "nearest_centroid_accuracy_own_features": round(own_accuracy, 4),
                       **{f"num_{s}": int(graph.ndata[f"{s}_mask"].sum()) for s in ("train", "val", "test")}}
    report["after_generate"] = rss_mib()
    print(f"[bench] generated {graph.num_nodes():,} nodes, {graph.num_edges():,} edges in "
          f"{report['generate_seconds']} s; rss {report['after_generate']}", flush=True)

    data = GraphData(graph=graph, name="planted_partition", info={"format": "generated"})
    job.load_data = lambda task_class, hp, channels: data  # the one replaced step: data comes from the generator
    task_class = TASKS.get("node_classification")
    calls: list = []
    timed(Trainer, "_train_epoch", calls, name="train_epoch")  # the trainer owns the epoch (and the step)
    for name in ("evaluate", "write_outputs"):
        timed(task_class, name, calls)
    original_init = task_class.__init__

    def init(self, *a, **k):
        begin = time.perf_counter()
        original_init(self, *a, **k)
        calls.append({"call": "task_init", "seconds": round(time.perf_counter() - begin, 3), **rss_mib()})
        print(f"[bench] task set-up: {calls[-1]['seconds']:.2f} s", flush=True)

    task_class.__init__ = init

    args.out.mkdir(parents=True, exist_ok=True)
    env = SimpleNamespace(hyperparameters=hyperparameters, additional_framework_parameters={}, hosts=["localhost"],
                          channel_input_dirs={},
                          output_data_dir=str(args.out / "output"), model_dir=str(args.out / "model"))
    del graph
    job_started = time.perf_counter()
    final = job.run_builtin(env)
    report["job_seconds"] = round(time.perf_counter() - job_started, 2)
    report["total_seconds"] = round(time.perf_counter() - started, 2)
    report["calls"] = calls
    report["final"] = final
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    history = json.loads((args.out / "output" / "metrics.json").read_text())["history"]
    report["history"] = history
    (args.out / "graphsage_large.json").write_text(json.dumps(report, indent=1))

    trains = [c["seconds"] for c in calls if c["call"] == "train_epoch"]
    evals = {c["split"]: c["seconds"] for c in calls if c["call"] == "evaluate"}
    batches = -(-report["graph"]["num_train"] // int(hyperparameters["batch_size"]))
    print("\n| nodes | edges | feats | classes | train/val/test nodes | epochs | train s/epoch (mean) | "
          "s/batch | val eval s (last) | test eval s | write_outputs s | peak RSS MiB | val acc | test acc | others' cores (max) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    g = report["graph"]
    print(f"| {g['num_nodes']:,} | {g['num_edges']:,} | {g['feats']} | {g['classes']} | "
          f"{g['num_train']:,}/{g['num_val']:,}/{g['num_test']:,} | {len(trains)} | {np.mean(trains):.1f} | "
          f"{np.mean(trains) / batches:.3f} | {evals.get('val', float('nan')):.1f} | "
          f"{evals.get('test', float('nan')):.1f} | "
          f"{sum(c['seconds'] for c in calls if c['call'] == 'write_outputs'):.1f} | {report['peak_rss_mib']:,} | "
          f"{final.get('val_accuracy', float('nan')):.3f} | {final.get('test_accuracy', float('nan')):.3f} | "
          f"{max(c.get('others_cores', 0) for c in calls):.2f} |")
    print(f"\ngenerate {report['generate_seconds']} s, job {report['job_seconds']} s, total {report['total_seconds']} s; "
          f"details in {args.out / 'graphsage_large.json'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
