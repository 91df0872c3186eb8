"""Name -> code registries for models, tasks and data formats (the ``timm.create_model`` idea).

A registry key is the hyperparameter value that selects the entry, so adding a model is one
file with ``@register_model("name")`` plus one import line in ``models/__init__.py``.
"""
import difflib
from typing import Any, Callable, Dict, List


class Registry:
    """A named collection of entries (classes or functions), each with optional metadata."""

    def __init__(self, kind: str, hyperparameter: str):
        self.kind = kind
        self.hyperparameter = hyperparameter
        self._entries: Dict[str, Any] = {}
        self._meta: Dict[str, Dict[str, Any]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Any], Any]:
        """Decorator that registers its target under ``name`` with ``meta`` (e.g. ``defaults``)."""

        def decorator(entry):
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            self._meta[name] = meta
            return entry

        return decorator

    def names(self) -> List[str]:
        """Sorted registered names, e.g. ``['gat', 'gcn', 'graphsage']``."""
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise ``ValueError`` naming the valid choices."""
        if name not in self._entries:
            close = difflib.get_close_matches(str(name), self.names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}.{hint}")
        return name

    def get(self, name: str) -> Any:
        """The entry registered under ``name``."""
        return self._entries[self.check(name)]

    def meta(self, name: str) -> Dict[str, Any]:
        """The metadata given at registration, e.g. ``{'defaults': {'lr': 0.005}}``."""
        return self._meta[self.check(name)]
