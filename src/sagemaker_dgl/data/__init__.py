"""Data formats and named datasets.

A data format reads one channel folder into a :class:`GraphData`; each format file says which
files it expects, registers itself with ``@register_format(name, detect=...)`` and is imported
below. :func:`load_data` picks the format (``data_format`` hyperparameter, or detection from the
files of channel ``train``), and falls back to a named dataset when there is no channel.
"""
from ._base import FORMATS, GraphData, register_format
from . import csv_graph, karate, planetoid  # noqa: F401  (registers the formats)
from .loading import NAMED_DATASETS, load_data

__all__ = ["FORMATS", "GraphData", "NAMED_DATASETS", "load_data", "register_format"]
