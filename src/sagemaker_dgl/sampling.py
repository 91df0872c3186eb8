"""Neighbour sampling that a seed reproduces, so that a resumed job samples what an uninterrupted
one would.

DGL draws samples from one random generator per OpenMP thread. Measured with DGL 1.1.3 on 2
threads, neither step is repeatable as DGL does it: ``dgl.seed`` seeds the generators in a
parallel loop that does not always reach the calling thread's, and which thread samples which
part of a batch varies between runs (so does the order of a block's nodes, which changes the
order of floating-point sums even with every neighbour kept). So :func:`seed_dgl` seeds on one
thread, and :class:`ReproducibleNeighborSampler` samples on one thread, from the calling thread's
generator; the model's computation keeps every thread. The trainer reseeds at the start of every
epoch. On 2 cores this costs nothing measurable (``benchmarks/RESULTS.md``).
"""
from contextlib import contextmanager

import dgl
from dgl.utils import get_num_threads, set_num_threads


@contextmanager
def _one_thread():
    threads = get_num_threads()
    set_num_threads(1)
    try:
        yield
    finally:
        set_num_threads(threads)


def seed_dgl(seed: int) -> None:
    """``dgl.seed`` that reliably seeds the calling thread's generator."""
    with _one_thread():
        dgl.seed(seed)


class ReproducibleNeighborSampler(dgl.dataloading.NeighborSampler):
    """``dgl.dataloading.NeighborSampler`` whose samples depend only on :func:`seed_dgl`'s seed."""

    def sample_blocks(self, g, seed_nodes, exclude_eids=None):
        with _one_thread():
            return super().sample_blocks(g, seed_nodes, exclude_eids)
