"""Molecules featurised for JTNN: junction trees and molecular graphs, in shards on disk.

DGL-LifeSci's ``JTVAEDataset`` featurises a molecule in 0.1-0.3 s (tree decomposition, the
candidate attachments of every cluster, the stereoisomers) into about 1 MB of Python objects:
220,000 ZINC molecules would take hours on one core and hundreds of GB in memory. So the
molecules are featurised once, ``SHARD_SIZE`` per shard, by one worker process per core, each
shard pickled to the cache folder (``$SAGEMAKER_DGL_CACHE/junction_trees/<key>``: the molecules,
the vocabulary and the library versions) as soon as it is done, with a progress line; a second
job, or a resumed one, reads the shards instead, and training holds one shard in memory at a time.

A molecule with a cluster outside the vocabulary (``KeyError`` in the library) cannot be encoded:
it is left out and counted (``uncovered``); so is one the tree decomposition rejects (``failed``).
"""
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

from .. import signals
from .loading import CACHE_DIR

logger = logging.getLogger(__name__)

SHARD_SIZE = 500
CACHE_VERSION = 1  # raised when what a shard holds changes


@dataclass
class ShardedTrees:
    """Featurised molecules in shard files: ``shards[i]`` holds a pickled list of items
    (``JTVAEDataset`` items: training ``(tree, graph, stereo graphs)``, otherwise ``(tree, graph)``)
    and ``smiles[i]`` their SMILES."""

    shards: List[Path]
    smiles: List[List[str]]
    uncovered: int = 0
    failed: int = 0
    failures: List[str] = field(default_factory=list)  # a few examples, for the log

    def __len__(self) -> int:
        return sum(len(smiles) for smiles in self.smiles)

    @property
    def all_smiles(self) -> List[str]:
        return [text for shard in self.smiles for text in shard]

    def load(self, index: int) -> list:
        """The items of shard ``index``."""
        with open(self.shards[index], "rb") as handle:
            return pickle.load(handle)


def featurise_molecules(smiles: Sequence[str], clusters: Sequence[str], training: bool, label: str,
                        workers: int = 0) -> ShardedTrees:
    """``smiles`` featurised with the vocabulary ``clusters``, from the cache when it is there;
    ``workers`` processes (0: one per core)."""
    import dgllife
    import rdkit

    key = hashlib.sha256(json.dumps([list(smiles), list(clusters), training, CACHE_VERSION, rdkit.__version__,
                                     dgllife.__version__]).encode()).hexdigest()[:24]
    directory = CACHE_DIR / "junction_trees" / key
    chunks = [list(smiles[start:start + SHARD_SIZE]) for start in range(0, len(smiles), SHARD_SIZE)]
    jobs = [(directory / f"shard{i:05d}.pkl", chunk, list(clusters), training) for i, chunk in enumerate(chunks)]
    todo = [job for job in jobs if not job[0].is_file()]
    if len(todo) < len(jobs):
        logger.info("%s: %d of %d shards of featurised molecules read from the cache %s", label,
                    len(jobs) - len(todo), len(jobs), directory)
    directory.mkdir(parents=True, exist_ok=True)
    started, done, total = time.perf_counter(), 0, sum(len(job[1]) for job in todo)
    workers = min(workers or os.cpu_count() or 1, len(todo))
    if todo:
        logger.info("%s: featurising %d molecules for JTNN in %d shards, %d worker%s", label, total, len(todo), workers,
                    "" if workers == 1 else "s")
    for finished in _run(todo, workers):
        done += finished
        logger.info("%s: featurised %d/%d molecules, %.0f s", label, done, total, time.perf_counter() - started)
    return _summary([job[0] for job in jobs], label)


def _run(jobs, workers: int) -> Iterator[int]:
    """Featurise the shards, here or in ``workers`` processes; a stop signal is honoured within a
    second (the pool's workers end with it, or by the pool's SIGTERM when this leaves the block)."""
    if workers <= 1:
        for job in jobs:
            yield _featurise_shard(job)
        return
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker) as pool:
        finished = pool.imap_unordered(_featurise_shard, jobs)
        for _ in jobs:
            while True:
                try:
                    count = finished.next(timeout=1)
                    break
                except multiprocessing.TimeoutError:
                    signals.check()  # leaving the block terminates the workers; finished shards stay cached
            yield count


def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the job answers it
    _quiet_rdkit()


def _quiet_rdkit() -> None:
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def _featurise_shard(job: Tuple[Path, List[str], List[str], bool]) -> int:
    """Featurise one shard and write it (atomically) with its SMILES and what was left out."""
    from dgllife.data.jtvae import JTVAEDataset
    from rdkit import Chem

    from ..models.jtnn_fixes import ClusterVocabulary, apply_fixes

    path, smiles, clusters, training = job
    apply_fixes()
    _quiet_rdkit()
    Chem.SetDefaultPickleProperties(Chem.PropertyPickleOptions.AllProps)  # atom-map numbers travel with the molecules
    listing = path.with_suffix(".txt")
    listing.write_text("\n".join(smiles) + "\n")
    dataset = JTVAEDataset(str(listing), ClusterVocabulary(clusters), cache=False, training=training)
    items, kept, uncovered, failures = [], [], 0, []
    for index, text in enumerate(smiles):
        signals.check()  # featurising in the job's own process: a stop ends it within a molecule
        try:
            items.append(dataset[index])
        except KeyError:
            uncovered += 1
            continue
        except Exception as error:  # noqa: BLE001 (RDKit and the decomposition raise many kinds; counted and shown)
            failures.append(f"{text}: {type(error).__name__}: {error}")
            continue
        kept.append(text)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(items, handle, protocol=pickle.HIGHEST_PROTOCOL)
    path.with_suffix(".json").write_text(json.dumps({"smiles": kept, "uncovered": uncovered, "failures": failures}))
    tmp.replace(path)
    return len(smiles)


def _summary(paths: List[Path], label: str) -> ShardedTrees:
    trees = ShardedTrees(paths, [])
    for path in paths:
        facts = json.loads(path.with_suffix(".json").read_text())
        trees.smiles.append(facts["smiles"])
        trees.uncovered += facts["uncovered"]
        trees.failed += len(facts["failures"])
        trees.failures = (trees.failures + facts["failures"])[:3]
    for failure in trees.failures:
        logger.warning("%s: a molecule the tree decomposition rejects: %s", label, failure)
    return trees
