"""JTNN: time per training step of DGL-LifeSci's unpatched ``JTNNVAE`` against the job's model, on the same batch.

Both models start from the same weights and train on the same featurised batch (the first
``--molecules`` ZINC training molecules, featurised once with this package's fixes applied: the
library's own tree decomposition crashes on a fused aromatic ring), one after the other in this
process: ``--steps`` Adam steps each (forward, backward, update), after one step of warm-up. The
library's model differs from ours in its candidate encoder (a ``narrow`` per candidate: fix 4 of
``sagemaker_dgl.models.jtnn_fixes``) and in writing embeddings onto the batch's graphs (fix 6,
which a freshly collated batch does not meet); the first step's loss is printed for both (equal
when the models compute the same thing).

Usage (from the repository root)::

    .venv/bin/python benchmarks/jtnn_step_time.py --max-busy 0.3     # about 3 minutes on 2 cores

Output: a Markdown table on stdout; ``--json`` writes the figures.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import machine_facts, wait_for_quiet  # noqa: E402

DATA = Path(os.environ.get("SAGEMAKER_DGL_DATA", HERE.parent.parent / "shared" / "data")) / "zinc_jtnn"


def time_steps(model, batch, steps: int, seed: int):
    """First step's loss and the wall time of each step after one of warm-up."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses, times = [], []
    for step in range(steps + 1):
        torch.manual_seed(seed + step)
        started = time.perf_counter()
        loss = model(*batch(), beta=0.0)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
        losses.append(loss.item())
    return losses[0], times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--molecules", type=int, default=40, help="batch size (DGL-LifeSci's: 40)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--hidden-size", type=int, default=450)
    parser.add_argument("--latent-size", type=int, default=56)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)))
    parser.add_argument("--max-busy", type=float, help="wait until other processes keep fewer cores busy")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch
    from dgllife.data.jtvae import JTVAEDataset, JTVAECollator
    from dgllife.model import JTNNVAE
    from rdkit import RDLogger

    from sagemaker_dgl.models.jtnn_fixes import ClusterVocabulary, FixedJTNNVAE, apply_fixes

    RDLogger.DisableLog("rdApp.*")
    torch.set_num_threads(args.threads)
    apply_fixes()
    vocabulary = ClusterVocabulary.from_file(DATA / "vocab.txt")
    molecules = (DATA / "train_20k.txt").read_text().split()[:args.molecules]
    listing = Path(os.environ.get("TMPDIR", "/tmp")) / "jtnn_step_time_molecules.txt"
    listing.write_text("\n".join(molecules) + "\n")
    dataset = JTVAEDataset(str(listing), vocabulary, training=True)
    items = [dataset[i] for i in range(len(molecules))]

    torch.manual_seed(args.seed)
    library = JTNNVAE(vocabulary, args.hidden_size, args.latent_size, args.depth)
    library.reset_parameters()
    ours = FixedJTNNVAE(vocabulary, args.hidden_size, args.latent_size, args.depth)
    ours.load_state_dict(library.state_dict())

    busy = wait_for_quiet(args.max_busy)
    rows = {}
    for name, model in (("dgllife", library), ("ours", ours)):
        loss, times = time_steps(model, lambda: JTVAECollator(training=True)(items), args.steps, args.seed)
        rows[name] = {"first_loss": loss, "step_s": statistics.median(times), "steps_s": times}
    ratio = rows["ours"]["step_s"] / rows["dgllife"]["step_s"]
    result = {"machine": machine_facts(), "others_cores_before": busy, "args": {k: str(v) for k, v in vars(args).items()},
              "rows": rows, "ours_over_dgllife": ratio}
    print(f"JTNN, {args.molecules} ZINC molecules per step, hidden {args.hidden_size}, latent {args.latent_size}, "
          f"depth {args.depth}, {args.threads} threads, median of {args.steps} steps\n")
    print("| implementation | first step's loss | time per step (s) |\n|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['first_loss']:.3f} | {row['step_s']:.2f} |")
    print(f"\nours / dgllife: {ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
