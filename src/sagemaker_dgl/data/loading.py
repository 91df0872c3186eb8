"""Pick the data for a job: a channel's files, a named download, or the karate default."""
import logging
import os
import re
from pathlib import Path
from typing import Callable, Dict, Mapping

import torch

from ..errors import ChannelError, DataFormatError
from . import planetoid
from ._base import FORMATS, GraphData
from .download import download
from .karate import load_karate

logger = logging.getLogger(__name__)

#: Where named datasets are downloaded (override with SAGEMAKER_DGL_CACHE).
CACHE_DIR = Path(os.environ.get("SAGEMAKER_DGL_CACHE", Path.home() / ".cache" / "sagemaker_dgl"))


def _download_planetoid(name: str) -> Callable[[], GraphData]:
    def load() -> GraphData:
        directory = CACHE_DIR / name
        try:
            for part, checksum in planetoid.CHECKSUMS[name].items():
                url = planetoid.SOURCE_URL.format(name=name, part=part)
                download(url, directory / f"ind.{name}.{part}", checksum)
        except (OSError, ValueError) as error:
            raise ChannelError(
                f"dataset '{name}' could not be downloaded ({error}). The job may have no internet access: "
                f"supply the files through channel 'train' instead, e.g. upload ind.{name}.* from "
                f"https://github.com/kimiyoung/planetoid/tree/master/data to S3 and call "
                f"estimator.fit({{'train': 's3://bucket/{name}/'}})"
            ) from None
        return planetoid.load_planetoid(directory, name)

    return load


#: Datasets the ``dataset`` hyperparameter can name without a channel.
NAMED_DATASETS: Dict[str, Callable[[], GraphData]] = {
    **{name: _download_planetoid(name) for name in planetoid.CHECKSUMS},
    "karate": load_karate,
}

#: Optional channels that fix a split: channel name -> split name.
SPLIT_CHANNELS = {"validation": "val", "test": "test"}


def load_data(hp, channels: Mapping[str, str]) -> GraphData:
    """Load the job's graph.

    Args:
        hp: the job's hyperparameters (``dataset``, ``data_format``, split fractions, seed).
        channels: channel name -> local folder, e.g. ``{'train': '/opt/ml/input/data/train'}``.
    """
    if "train" in channels:
        data = _load_channel(Path(channels["train"]), hp)
    elif hp.data_format != "auto":
        raise ChannelError(
            f"data_format={hp.data_format!r} reads channel 'train', which this job does not have; "
            "pass it with estimator.fit({'train': 's3://...'}) or drop data_format"
        )
    else:
        name = hp.dataset or "karate"
        logger.info("no 'train' channel: using dataset '%s'", name)
        data = NAMED_DATASETS[name]()
    for channel, split in SPLIT_CHANNELS.items():
        if channel in channels:
            _apply_split_channel(data.graph, split, Path(channels[channel]))
    if any(channel in channels for channel in SPLIT_CHANNELS):
        _complete_masks(data.graph, hp)
    return data


def _files(directory: Path, channel: str):
    if not directory.is_dir():
        raise ChannelError(f"channel '{channel}' folder {directory} does not exist; check the S3 prefix given for it")
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    if not files:
        raise ChannelError(f"channel '{channel}' ({directory}) is empty; check the S3 prefix given for it")
    return files


def _load_channel(directory: Path, hp) -> GraphData:
    files = _files(directory, "train")
    data_format = hp.data_format
    if data_format == "auto":
        detected = [name for name in FORMATS.names() if FORMATS.meta(name)["detect"](directory)]
        if not detected:
            expected = "; ".join(f"{name}: {FORMATS.meta(name)['expects']}" for name in FORMATS.names())
            shown = ", ".join(p.name for p in files[:10])
            raise DataFormatError(
                f"cannot tell the format of channel 'train' (files: {shown}). Expected one of: {expected}"
            )
        data_format = detected[0]
    logger.info("reading channel 'train' as %s", data_format)
    return FORMATS.get(data_format)(directory, hp.dataset if data_format == "planetoid" else None)


def _apply_split_channel(graph, split: str, directory: Path) -> None:
    """Set ``<split>_mask`` from the channel's files: one node id per line (first column), optional header."""
    ids = []
    for path in _files(directory, split):
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        fields = [re.split(r"[,\s]+", line)[0] for line in lines]
        if fields and not fields[0].lstrip("-").isdigit():
            fields = fields[1:]  # header, e.g. "node_id"
        try:
            ids.extend(int(field) for field in fields)
        except ValueError as error:
            raise DataFormatError(f"{path.name} in the channel for split '{split}' must list node ids ({error})") from None
    ids_tensor = torch.tensor(ids, dtype=torch.int64)
    if len(ids) == 0 or ids_tensor.min() < 0 or ids_tensor.max() >= graph.num_nodes():
        raise DataFormatError(f"split '{split}' lists node ids outside 0..{graph.num_nodes() - 1} (or none at all)")
    mask = torch.zeros(graph.num_nodes(), dtype=torch.bool)
    mask[ids_tensor] = True
    graph.ndata[f"{split}_mask"] = mask


def _complete_masks(graph, hp) -> None:
    """After split channels: train = labelled nodes outside val/test; carve a missing split from it."""
    labelled = graph.ndata["label"] >= 0 if "label" in graph.ndata else torch.ones(graph.num_nodes(), dtype=torch.bool)
    held_out = torch.zeros(graph.num_nodes(), dtype=torch.bool)
    for split in ("val", "test"):
        if f"{split}_mask" in graph.ndata:
            held_out |= graph.ndata[f"{split}_mask"]
    train = (graph.ndata["train_mask"] if "train_mask" in graph.ndata else labelled) & ~held_out
    generator = torch.Generator().manual_seed(hp.seed)
    fractions = {"val": hp.val_fraction, "test": 1.0 - hp.train_fraction - hp.val_fraction}
    for split, fraction in fractions.items():
        if f"{split}_mask" not in graph.ndata:
            candidates = torch.nonzero(train).flatten()
            chosen = candidates[torch.randperm(len(candidates), generator=generator)[: int(round(fraction * len(candidates)))]]
            mask = torch.zeros(graph.num_nodes(), dtype=torch.bool)
            mask[chosen] = True
            graph.ndata[f"{split}_mask"] = mask
            train &= ~mask
    graph.ndata["train_mask"] = train
