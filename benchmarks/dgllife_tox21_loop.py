"""Tox21 with GCN written the way DGL-LifeSci's ``examples/property_prediction/moleculenet``
(``classification.py`` and its ``utils.py``) does it: the reference loop of ``graph_prediction_tox21.py``.

As the example runs with ``-d Tox21 -mo GCN -f canonical -s random|scaffold`` and its
``configures/Tox21/GCN_canonical.json``:

- data: ``MoleculeCSVDataset`` of the CSV (``mol_id`` dropped, as ``dgllife.data.Tox21``),
  ``smiles_to_bigraph(add_self_loop=True)``, ``CanonicalAtomFeaturizer`` (74 features), no bond
  features (GCN reads none); split 80/10/10 by ``RandomSplitter`` (seeded here) or ``ScaffoldSplitter``;
- model: ``GCNPredictor`` of 3 layers of 64 (no residual, no batch norm, dropout 0.181), weighted
  sum and max readout, a predictor of 16 hidden units;
- training: Adam (lr 8.96e-4, weight decay 1.54e-5), batches of 32 from a shuffled ``DataLoader``
  with ``collate_molgraphs``, a batch of one molecule skipped, ``BCEWithLogitsLoss`` masked to the
  known labels and averaged over all label slots; validation ROC-AUC (``Meter``) every epoch and
  ``EarlyStopping`` with the config's patience (3), the best epoch's weights tested.

Usage::

    .venv/bin/python benchmarks/dgllife_tox21_loop.py --data ../shared/data/tox21/tox21.csv --seed 0 --json out.json
"""
import argparse
import json
import tempfile
import time
from functools import partial
from pathlib import Path

import dgl
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from dgllife.data import MoleculeCSVDataset
from dgllife.model import GCNPredictor
from dgllife.utils import (CanonicalAtomFeaturizer, EarlyStopping, Meter, RandomSplitter, ScaffoldSplitter,
                           smiles_to_bigraph)
from torch.utils.data import DataLoader

CONFIG = {"batch_size": 32, "dropout": 0.18118350615245202, "gnn_hidden_feats": 64, "lr": 0.0008963957671468941,
          "num_gnn_layers": 3, "patience": 3, "predictor_hidden_feats": 16, "weight_decay": 1.5353642545259472e-05}


def collate_molgraphs(data):
    smiles, graphs, labels, masks = map(list, zip(*data))
    bg = dgl.batch(graphs)
    bg.set_n_initializer(dgl.init.zero_initializer)
    bg.set_e_initializer(dgl.init.zero_initializer)
    return smiles, bg, torch.stack(labels, dim=0), torch.stack(masks, dim=0)


def run_a_train_epoch(model, loader, loss_criterion, optimizer):
    model.train()
    for smiles, bg, labels, masks in loader:
        if len(smiles) == 1:
            continue  # as the example: batch norm needs two
        logits = model(bg, bg.ndata.pop("h"))
        loss = (loss_criterion(logits, labels) * (masks != 0).float()).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def run_an_eval_epoch(model, loader):
    model.eval()
    meter = Meter()
    with torch.no_grad():
        for smiles, bg, labels, masks in loader:
            meter.update(model(bg, bg.ndata.pop("h")), labels, masks)
    return float(np.mean(meter.compute_metric("roc_auc_score")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="tox21.csv")
    parser.add_argument("--split", choices=["random", "scaffold"], default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1000, help="the example's maximum (early stopping ends it)")
    parser.add_argument("--patience", type=int, default=CONFIG["patience"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    started = time.perf_counter()
    df = pd.read_csv(args.data).drop(columns=["mol_id"])
    with tempfile.TemporaryDirectory() as scratch:
        dataset = MoleculeCSVDataset(df, partial(smiles_to_bigraph, add_self_loop=True), CanonicalAtomFeaturizer(),
                                     None, "smiles", str(Path(scratch) / "tox21_dglgraph.bin"), log_every=10000)
    featurise_s = time.perf_counter() - started
    if args.split == "random":
        parts = RandomSplitter.train_val_test_split(dataset, 0.8, 0.1, 0.1, random_state=args.seed)
    else:
        parts = ScaffoldSplitter.train_val_test_split(dataset, frac_train=0.8, frac_val=0.1, frac_test=0.1,
                                                      log_every_n=None)
    train_set, val_set, test_set = parts
    loader = partial(DataLoader, batch_size=CONFIG["batch_size"], collate_fn=collate_molgraphs)
    train_loader, val_loader, test_loader = loader(train_set, shuffle=True), loader(val_set), loader(test_set)

    layers = CONFIG["num_gnn_layers"]
    model = GCNPredictor(in_feats=74, hidden_feats=[CONFIG["gnn_hidden_feats"]] * layers,
                         activation=[F.relu] * layers, residual=[False] * layers, batchnorm=[False] * layers,
                         dropout=[CONFIG["dropout"]] * layers, predictor_hidden_feats=CONFIG["predictor_hidden_feats"],
                         predictor_dropout=CONFIG["dropout"], n_tasks=dataset.n_tasks)
    loss_criterion = nn.BCEWithLogitsLoss(reduction="none")
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["lr"], weight_decay=CONFIG["weight_decay"])
    with tempfile.TemporaryDirectory() as scratch:
        stopper = EarlyStopping(patience=args.patience, filename=str(Path(scratch) / "model.pth"),
                                metric="roc_auc_score")
        epochs = []
        for epoch in range(args.epochs):
            tick = time.perf_counter()
            run_a_train_epoch(model, train_loader, loss_criterion, optimizer)
            trained = time.perf_counter()
            val_score = run_an_eval_epoch(model, val_loader)
            early_stop = stopper.step(val_score, model)
            epochs.append({"epoch": epoch + 1, "train_time": trained - tick, "epoch_time": time.perf_counter() - tick,
                           "val_roc_auc": val_score})
            print(f"epoch {epoch + 1} val_roc_auc {val_score:.4f} best {stopper.best_score:.4f} "
                  f"epoch_time {epochs[-1]['epoch_time']:.2f}", flush=True)
            if early_stop:
                break
        stopper.load_checkpoint(model)
    test_score = run_an_eval_epoch(model, test_loader)
    best_epoch = max(epochs, key=lambda row: row["val_roc_auc"])["epoch"]
    print(f"test roc_auc {test_score:.4f} (best epoch {best_epoch} of {len(epochs)})")
    args.json.write_text(json.dumps({"test_roc_auc": test_score, "best_val_roc_auc": stopper.best_score,
                                     "best_epoch": best_epoch, "featurise_s": featurise_s, "epochs": epochs}))


if __name__ == "__main__":
    main()
