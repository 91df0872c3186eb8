"""Baseline: R-GCN entity classification on AIFB or MUTAG, a plain DGL loop as DGL's example writes it.

Written like DGL 1.1's ``examples/pytorch/rgcn/entity.py`` (dmlc/dgl; its data preparation is the
same as ``entity_utils.load_data(get_norm=True)`` and the older ``entity_classify.py``): the graph
is a heterograph with one edge type per relation and per inverse relation (``rev-<relation>``,
as ``dgl.data.rdf`` inserts them), ``g.int()``, the normalisation ``norm = 1 / in-degree of the
destination under the edge's type`` computed per canonical edge type with ``dgl.norm_by_dst``,
then ``dgl.to_homogeneous(g, edata=['norm'])``; full-graph training, 50 epochs of Adam (lr 0.01,
weight decay 5e-4 on every parameter), cross-entropy on the training entities, no validation
split, test accuracy of the last epoch's model. It does not import sagemaker_dgl.

The model is entity.py's ``RGCN``: ``nn.Embedding(num_nodes, 16)`` (a learnt vector per entity,
fed as ``x = emb.weight``), then ``RelGraphConv(16, 16, num_rels, regularizer='basis',
num_bases=num_rels, self_loop=False)``, ReLU, ``RelGraphConv(16, num_classes, ...)`` likewise;
no dropout. ``num_rels`` counts the inverse relations. ``--num-bases`` and ``--self-loop``
change those two settings (``--num-bases 30 --self-loop`` gives this package's hyperparameters
on DGL's embedding input).

How it differs from this package's default R-GCN (``model=rgcn``, see
``src/sagemaker_dgl/models/rgcn.py``): ours has no embedding table; its first layer is the
paper's relational input layer on one-hot entities (a per-relation table of ``num_nodes x 16``
rows, made of 30 shared basis tables, plus a self-loop table), then one ``RelGraphConv(16, C)``;
both layers with ``num_bases=30`` and a self loop. DGL's current example cannot feed one-hot ids
to ``RelGraphConv`` (``TypedLinear`` wants dense features; the older ``entity_classify.py`` did
``RelGraphConv(num_nodes, 16, ...)`` on ids with DGL < 0.8), hence its embedding. Our job with
``input_layer=embedding num_bases=<num_rels> self_loop=false`` is the same model as this one.

Graphs (``--graph``):

- ``ours`` (default): the graph this package's job builds (``sagemaker_dgl.data.rdf`` and the
  entity-classification task), rebuilt here with rdflib in a few lines: every distinct subject
  and object is a node (literals included), one node type, the label predicates removed (AIFB:
  swrc ``affiliation``, ``employs``; MUTAG: ``isMutagenic``). AIFB: 8,285 nodes, 58,086 edges,
  90 edge types; MUTAG: 23,644 nodes, 148,454 edges, 46 edge types. Same sizes as our job, so
  epoch times compare like for like.
- ``dgl``: DGL's own ``dgl.data.rdf.AIFBDataset`` / ``MUTAGDataset`` pipeline, run offline: the
  local files are laid out (links; MUTAG's ``.nt.gz`` decompressed) in ``--dgl-raw-dir`` under
  the folder name DGL would download into, so DGL parses them instead of downloading (and caches
  its processed graph there). Its graph differs: typed nodes, blank nodes dropped, literals
  merged by their text, AIFB 7,262 nodes / 48,810 edges / 104 edge types, MUTAG 27,163 /
  148,100 / 50 (one edge type per (source type, relation, destination type)); only the target
  type's entities are classified.

Timing: ``epoch_time`` is one training step as entity.py's loop runs it (forward, loss,
backward, Adam step, training accuracy); the loop evaluates nothing else per epoch.

Usage (from the repository root)::

    .venv/bin/python benchmarks/rgcn_dgl_loop.py --data ../shared/data/aifb --dataset aifb --seed 0
    .venv/bin/python benchmarks/rgcn_dgl_loop.py --data ../shared/data/mutag --dataset mutag --graph dgl

It prints the per-epoch lines of entity.py on stderr and, last, one JSON line on stdout: the
per-epoch times and losses, test accuracy, graph sizes, threads and versions (``--json`` also
writes it to a file).
"""
import argparse
import gzip
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import dgl
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from dgl.nn.pytorch import RelGraphConv

#: The predicates that state the labels, removed before training (as R-GCN and dgl.data.rdf do).
LABEL_PREDICATES = {
    "aifb": ("http://swrc.ontoware.org/ontology#affiliation", "http://swrc.ontoware.org/ontology#employs"),
    "mutag": ("http://dl-learner.org/carcinogenesis#isMutagenic",),
}
RDF_FORMATS = {".nt": "nt", ".n3": "n3", ".ttl": "turtle"}


class RGCN(nn.Module):
    """entity.py's model (``num_bases`` None: ``num_rels``, as there)."""

    def __init__(self, num_nodes, h_dim, out_dim, num_rels, num_bases=None, self_loop=False):
        super().__init__()
        num_bases = num_rels if num_bases is None else num_bases
        self.emb = nn.Embedding(num_nodes, h_dim)
        # two-layer RGCN
        self.conv1 = RelGraphConv(h_dim, h_dim, num_rels, regularizer="basis", num_bases=num_bases,
                                  self_loop=self_loop)
        self.conv2 = RelGraphConv(h_dim, out_dim, num_rels, regularizer="basis", num_bases=num_bases,
                                  self_loop=self_loop)

    def forward(self, g):
        x = self.emb.weight
        h = F.relu(self.conv1(g, x, g.edata[dgl.ETYPE], g.edata["norm"]))
        h = self.conv2(g, h, g.edata[dgl.ETYPE], g.edata["norm"])
        return h


# ----------------------------------------------------------------------------- graphs
def read_labels(path: Path):
    """(URI, label) per line of a trainingSet/testSet.tsv: URI first, label in the 'label...' column."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    column = next((i for i, name in enumerate(header) if name.lower().startswith("label")), 1)
    return [(fields[0], fields[column]) for fields in (line.split("\t") for line in lines[1:] if line.strip())]


def ours_graph(folder: Path, dataset: str):
    """The graph of this package's job, as a one-node-type heterograph, plus labels and splits."""
    import rdflib

    rdf = rdflib.Graph()
    for path in sorted(folder.iterdir()):
        suffix = Path(path.name[:-3]).suffix if path.name.endswith(".gz") else path.suffix
        if suffix in RDF_FORMATS:
            with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as handle:
                rdf.parse(data=handle.read().decode("utf-8"), format=RDF_FORMATS[suffix])
    drop = {rdflib.URIRef(p) for p in LABEL_PREDICATES.get(dataset, ())}
    triples = [(s, p, o) for s, p, o in rdf if p not in drop]
    terms = sorted({term for s, _, o in triples for term in (s, o)}, key=lambda term: term.n3())
    node = {term: index for index, term in enumerate(terms)}
    by_relation = {}
    for s, p, o in triples:
        by_relation.setdefault(str(p), ([], []))
        by_relation[str(p)][0].append(node[s])
        by_relation[str(p)][1].append(node[o])
    data = {}
    for relation, (src, dst) in sorted(by_relation.items()):
        data[("entity", relation, "entity")] = (torch.tensor(src), torch.tensor(dst))
        data[("entity", f"rev-{relation}", "entity")] = (torch.tensor(dst), torch.tensor(src))
    hg = dgl.heterograph(data, num_nodes_dict={"entity": len(terms)})
    splits = {name: read_labels(folder / f"{file}.tsv") for name, file in (("train", "trainingSet"), ("test", "testSet"))}
    classes = sorted({label for rows in splits.values() for _, label in rows})
    labels = torch.full((len(terms),), -1, dtype=torch.int64)
    idx = {}
    for name, rows in splits.items():
        ids = torch.tensor([node[rdflib.URIRef(uri.strip("<>"))] for uri, _ in rows])
        labels[ids] = torch.tensor([classes.index(label) for _, label in rows])
        idx[name] = ids
    return hg, "entity", labels, idx["train"], idx["test"], len(classes)


def dgl_dataset_graph(folder: Path, dataset: str, raw_dir: Path):
    """DGL's AIFBDataset / MUTAGDataset, fed the local files instead of its download."""
    from dgl.data.rdf import AIFBDataset, MUTAGDataset
    from dgl.data.utils import _get_dgl_url

    name = f"{dataset}-hetero"
    url = _get_dgl_url(f"dataset/rdf/{name}.zip")
    raw_path = raw_dir / f"{name}_{hashlib.sha1(url.encode('utf-8')).hexdigest()[:8]}"  # DGLDataset.raw_path
    raw_path.mkdir(parents=True, exist_ok=True)
    for source in folder.iterdir():
        if source.name.endswith(".gz"):  # dgl.data.rdf reads *.nt and *.n3 only
            target = raw_path / source.name[:-3]
            if not target.exists():
                with gzip.open(source, "rb") as handle:
                    target.write_bytes(handle.read())
        elif source.suffix in (".nt", ".n3", ".tsv") and not (raw_path / source.name).exists():
            (raw_path / source.name).symlink_to(source.resolve())
    data = {"aifb": AIFBDataset, "mutag": MUTAGDataset}[dataset](raw_dir=str(raw_dir), verbose=False)
    hg = data[0]
    category = data.predict_category
    labels = hg.nodes[category].data.pop("labels")
    train_mask = hg.nodes[category].data.pop("train_mask")
    test_mask = hg.nodes[category].data.pop("test_mask")
    train_idx = torch.nonzero(train_mask, as_tuple=False).squeeze()
    test_idx = torch.nonzero(test_mask, as_tuple=False).squeeze()
    return hg, category, labels, train_idx, test_idx, data.num_classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the RDF graph and trainingSet/testSet.tsv")
    parser.add_argument("--dataset", choices=sorted(LABEL_PREDICATES), required=True)
    parser.add_argument("--graph", choices=["ours", "dgl"], default="ours")
    parser.add_argument("--dgl-raw-dir", type=Path, default=Path(__file__).resolve().parent / "out" / "rgcn" / "dgl-raw",
                        help="--graph dgl: where DGL's dataset finds (and caches) its files")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--num-bases", type=int, help="default: num_rels, as entity.py")
    parser.add_argument("--self-loop", action="store_true", help="self_loop=True in both layers (entity.py: False)")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    imported = time.time()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    dgl.seed(args.seed)

    if args.graph == "ours":
        g, category, labels, train_idx, test_idx, num_classes = ours_graph(args.data, args.dataset)
    else:
        g, category, labels, train_idx, test_idx, num_classes = dgl_dataset_graph(args.data, args.dataset,
                                                                                 args.dgl_raw_dir)
    loaded = time.time()
    # entity.py from here on
    g = g.int()
    num_rels = len(g.canonical_etypes)
    # calculate normalization weight for each edge, and find target category and node id
    for cetype in g.canonical_etypes:
        g.edges[cetype].data["norm"] = dgl.norm_by_dst(g, cetype).unsqueeze(1)
    category_id = g.ntypes.index(category)
    g = dgl.to_homogeneous(g, edata=["norm"])
    node_ids = torch.arange(g.num_nodes())
    target_idx = node_ids[g.ndata[dgl.NTYPE] == category_id]
    model = RGCN(g.num_nodes(), args.hidden, num_classes, num_rels, args.num_bases, args.self_loop)
    loss_fcn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    ready = time.time()

    rows = []
    model.train()
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        logits = model(g)
        logits = logits[target_idx]
        loss = loss_fcn(logits[train_idx], labels[train_idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        acc = (logits[train_idx].argmax(dim=1) == labels[train_idx]).float().mean().item()
        t1 = time.perf_counter()
        rows.append(dict(epoch=epoch + 1, loss=loss.item(), train_accuracy=acc, epoch_time=t1 - t0, wall=time.time()))
        print("Epoch {:05d} | Loss {:.4f} | Train Accuracy {:.4f} | Time {:.4f}".format(epoch, loss.item(), acc, t1 - t0),
              file=sys.stderr, flush=True)

    model.eval()
    with torch.no_grad():
        logits = model(g)[target_idx]
    test_acc = (logits[test_idx].argmax(dim=1) == labels[test_idx]).float().mean().item()
    print("Test accuracy {:.4f}".format(test_acc), file=sys.stderr, flush=True)
    result = dict(
        implementation="dgl", dataset=args.dataset, graph=args.graph, seed=args.seed, test_accuracy=test_acc,
        num_nodes=g.num_nodes(), num_edges=g.num_edges(), num_rels=num_rels, num_classes=num_classes,
        num_bases=args.num_bases or num_rels, self_loop=args.self_loop, epochs=rows,
        num_parameters=sum(p.numel() for p in model.parameters()), threads=torch.get_num_threads(),
        imported_wall=imported, loaded_wall=loaded, ready_wall=ready,
        versions=dict(torch=torch.__version__, dgl=dgl.__version__),
    )
    line = json.dumps(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(line + "\n")
    print(line, flush=True)


if __name__ == "__main__":
    main()
