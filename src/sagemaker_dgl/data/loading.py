"""Pick the data for a job: the 'train' channel's files, a named dataset, or the task's default."""
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from ..errors import ChannelError, DataFormatError, IncompatibleTaskError
from ._base import DATASETS, FORMATS, Dataset, first_line

logger = logging.getLogger(__name__)

#: Where named datasets are downloaded (override with SAGEMAKER_DGL_CACHE).
CACHE_DIR = Path(os.environ.get("SAGEMAKER_DGL_CACHE", Path.home() / ".cache" / "sagemaker_dgl"))


def load_data(task_class, hp, channels: Mapping[str, str]) -> Any:
    """The data container the task trains on.

    Args:
        task_class: the chosen task (its ``data_type`` and ``default_dataset``).
        hp: the job's hyperparameters (``dataset``, ``data_format``).
        channels: channel name -> local folder, e.g. ``{'train': '/opt/ml/input/data/train'}``.
    """
    common, options = hp.common, hp.resolved()
    if "train" in channels:
        data = read_channel(Path(channels["train"]), common.data_format, common.dataset, options=options)
    elif common.data_format != "auto":
        raise ChannelError(
            f"data_format={common.data_format!r} reads channel 'train', which this job does not have; "
            "pass it with estimator.fit({'train': 's3://...'}) or drop data_format"
        )
    else:
        name = common.dataset or task_class.default_dataset
        if name is None:
            raise ChannelError(f"task {common.task!r} needs channel 'train' or hyperparameter dataset")
        logger.info("no 'train' channel: using dataset '%s'", name)
        data = load_dataset(DATASETS.get(name), options)
    if not isinstance(data, task_class.data_type):
        raise IncompatibleTaskError(
            f"task {common.task!r} trains on {task_class.data_type.__name__}, but the data is "
            f"{type(data).__name__}; choose a task for it or another dataset"
        )
    return data


def read_channel(directory: Path, data_format: str, dataset: Optional[str], channel: str = "train",
                 options: Optional[Mapping[str, Any]] = None) -> Any:
    """Read a channel folder in ``data_format``, or in the one format its files match (``auto``);
    the format's ``options`` are taken from ``options`` (the job's hyperparameters)."""
    files = channel_files(directory, channel)
    if data_format == "auto":
        detected = [spec.name for spec in FORMATS.values() if spec.detect(directory)]
        if not detected:
            expected = "; ".join(f"{spec.name}: {spec.expects}" for spec in FORMATS.values())
            shown = ", ".join(p.name for p in files[:10])
            headers = "".join(f" {p.name} has the columns {first_line(p).strip()[:200]}." for p in files[:3] if p.suffix.lower() in
                              (".csv", ".tsv"))
            raise DataFormatError(
                f"cannot tell the format of channel '{channel}' (files: {shown}).{headers} Expected one of: {expected}"
            )
        if len(detected) > 1:
            raise DataFormatError(
                f"the files of channel '{channel}' match several formats ({', '.join(detected)}); "
                "set hyperparameter data_format to one of them"
            )
        data_format = detected[0]
    logger.info("reading channel '%s' as %s", channel, data_format)
    spec = FORMATS.get(data_format)
    return spec.read(directory, dataset, **_format_options(spec, options))


def load_dataset(dataset: Dataset, options: Optional[Mapping[str, Any]] = None) -> Any:
    """A named dataset: built in memory, or downloaded to the cache (checksummed) and read."""
    if dataset.build is not None:
        return dataset.build()
    directory = CACHE_DIR / dataset.name
    fetch(dataset, directory)
    spec = FORMATS.get(dataset.format)
    return spec.read(directory, dataset.name, **_format_options(spec, options))


def _format_options(spec, options: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    return {key: options[key] for key in spec.options if options and key in options}


def fetch(dataset: Dataset, directory: Path) -> None:
    """Download ``dataset``'s files into ``directory``; offline, say how to pass them as a channel."""
    if dataset.download is None:
        raise ChannelError(f"dataset {dataset.name!r} is built in ({dataset.source}); there is nothing to download")
    try:
        dataset.download(directory)
    except (OSError, ValueError) as error:
        raise ChannelError(
            f"dataset '{dataset.name}' could not be downloaded ({error}). The job may have no internet access: "
            f"fetch it where there is with `sagemaker-dgl download {dataset.name} DIR` ({dataset.source}), "
            f"upload DIR to S3 and pass it as channel 'train', e.g. "
            f"estimator.fit({{'train': 's3://bucket/{dataset.name}/'}})"
        ) from None


def channel_files(directory: Path, channel: str) -> List[Path]:
    """The files of a channel folder; a missing or empty folder is a :class:`ChannelError`."""
    if not directory.is_dir():
        raise ChannelError(f"channel '{channel}' folder {directory} does not exist; check the S3 prefix given for it")
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    if not files:
        raise ChannelError(f"channel '{channel}' ({directory}) is empty; check the S3 prefix given for it")
    return files
