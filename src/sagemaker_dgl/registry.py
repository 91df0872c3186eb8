"""Name -> code registries for tasks, models, data formats and datasets (the ``timm.create_model`` idea).

A registry key is the hyperparameter value that selects the entry, so adding a model is one
file with ``@register_model("name", tasks=...)`` plus one import line in ``models/__init__.py``.
Names match case-insensitively (``model=GCN`` is ``gcn``); an unknown name is a
:class:`UnknownNameError` that lists the choices and the closest one.
"""
import difflib
from typing import Any, Callable, Dict, Generic, Iterable, List, Optional, TypeVar

from .errors import ConfigError

Entry = TypeVar("Entry")


class UnknownNameError(ConfigError):
    """A hyperparameter names a task, model, format or dataset that is not registered."""


def closest(name: Any, choices: Iterable[str], cutoff: float = 0.6) -> Optional[str]:
    """The choice most like ``name`` (case-insensitive), for "did you mean" hints; None if none is close."""
    close = difflib.get_close_matches(str(name).lower(), list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


class Registry(Generic[Entry]):
    """Entries (classes, functions or specs) by name, for one ``hyperparameter``."""

    def __init__(self, kind: str, hyperparameter: str):
        self.kind = kind
        self.hyperparameter = hyperparameter
        self._entries: Dict[str, Entry] = {}

    def add(self, name: str, entry: Entry) -> Entry:
        """Register ``entry`` under ``name`` (lower case); a name registered twice is a bug."""
        if name != name.lower() or name in self._entries:
            raise RuntimeError(f"{self.kind} {name!r} is registered twice or is not lower case")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[Entry], Entry]:
        """Decorator form of :meth:`add`."""
        return lambda entry: self.add(name, entry)

    def names(self) -> List[str]:
        """Sorted registered names, e.g. ``['gat', 'gcn', 'graphsage']``."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def check(self, name: Any) -> str:
        """The registered spelling of ``name``, else :class:`UnknownNameError` naming the choices."""
        if name not in self:
            close = closest(name, self.names())
            hint = f" Did you mean {close!r}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())} "
                f"(hyperparameter {self.hyperparameter!r}).{hint}"
            )
        return name.lower()

    def get(self, name: str) -> Entry:
        """The entry registered under ``name``."""
        return self._entries[self.check(name)]

    def values(self) -> List[Entry]:
        """Every entry, sorted by name."""
        return [self._entries[name] for name in self.names()]
