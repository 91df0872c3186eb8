"""Data: typed containers, data formats and named datasets.

A data format reads one channel folder into a container (:class:`GraphData`, ...); each format
file says which files it expects, registers its reader with ``@register_format(name, detect=...,
expects=..., produces=...)`` and its named datasets with :func:`register_dataset`, and is imported
below. :func:`load_data` reads channel 'train' (``data_format``, or detection from its files), or
a named dataset, or the task's default.
"""
from ._base import (DATASETS, FORMATS, Dataset, DataFormat, GenerationData, GraphData, GraphFamilyData, GraphSetData,
                    HeteroGraphData, MoleculeSetData, RatingData, TripleData, register_dataset, register_format)
from . import csv_graph, graph_families, graph_sets, karate, molecule_sets, molecules, planetoid, ratings, rdf, triples  # noqa: F401  (registers the formats and datasets)
from .loading import CACHE_DIR, channel_files, fetch, load_data, load_dataset, read_channel

__all__ = ["CACHE_DIR", "DATASETS", "FORMATS", "DataFormat", "Dataset", "GenerationData", "GraphData", "GraphFamilyData",
           "GraphSetData", "HeteroGraphData", "MoleculeSetData", "RatingData", "TripleData", "channel_files", "fetch", "load_data", "load_dataset", "read_channel",
           "register_dataset", "register_format"]
