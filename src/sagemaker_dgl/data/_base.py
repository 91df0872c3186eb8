"""What a data format produces, and the format registry."""
from dataclasses import dataclass, field
from typing import Any, Dict

from dgl import DGLGraph

from ..registry import Registry

FORMATS = Registry("data format", hyperparameter="data_format")
register_format = FORMATS.register


@dataclass
class GraphData:
    """One graph with its node data (``feat``, ``label``, optional ``*_mask``) and provenance."""

    graph: DGLGraph
    name: str
    info: Dict[str, Any] = field(default_factory=dict)
