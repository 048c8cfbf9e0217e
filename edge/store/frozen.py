"""Read-only dicts and lists for profile data that several requests share.

A parsed profile part is kept and handed to every later load of byte-identical data (see
``edge.store.parts``), so nothing that reads a profile may change it in place. These are real
``dict`` and ``list`` subclasses (``isinstance``, ``json``, Jinja and ``dict(x)`` copies work as
before) whose mutating methods raise ``TypeError``. Copy one (``dict(x)``, ``list(x)``) to get
a plain, changeable container.
"""

from __future__ import annotations

from typing import Any, NoReturn

import msgpack


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is read-only: copy it (dict(x) / list(x)) to change it")


class FrozenDict(dict):  # type: ignore[type-arg]
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenDict'")

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self  # nothing inside can change either

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


class FrozenList(list):  # type: ignore[type-arg]
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = reverse = sort = clear = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenList'")

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))


EMPTY_DICT = FrozenDict()
EMPTY_LIST = FrozenList()


def unpack_frozen(blob: Any) -> Any:
    """A stored msgpack value with every map and array read-only; None if it is broken."""
    if blob is None:
        return None
    try:
        return msgpack.unpackb(blob, raw=False, strict_map_key=False, object_hook=FrozenDict,
                               list_hook=FrozenList)
    except Exception:  # a broken stored value is skipped, never fatal
        return None


def thaw(value: Any) -> Any:
    """A plain, changeable deep copy of read-only containers (for JSON export)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if isinstance(value, tuple):
        return tuple(thaw(v) for v in value)
    return value
