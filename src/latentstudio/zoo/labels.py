"""The 1000 ImageNet-1k class names, in the standard index order, and lookup by name.

The names live in ``latentstudio/data/imagenet_classes.txt`` (one per line, line ``i`` = class ``i``):
short readable names ("tabby cat", "espresso", "crane bird" / "construction crane"), all distinct.

Example
-------
>>> imagenet_labels()[281]
'tabby cat'
>>> class_index("Espresso")
967
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources

from latentstudio.errors import ModelError, ParameterError

N_CLASSES = 1000


@functools.lru_cache(maxsize=1)
def _labels() -> tuple[str, ...]:
    text = resources.files("latentstudio").joinpath("data/imagenet_classes.txt").read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != N_CLASSES:
        raise ModelError(f"imagenet_classes.txt holds {len(names)} names, expected {N_CLASSES}")
    return names


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names; index ``i`` is the name of logit ``i``.

    Example
    -------
    >>> imagenet_labels()[967]
    'espresso'
    """
    return list(_labels())


@functools.lru_cache(maxsize=1)
def _lower_index() -> dict[str, int]:
    return {name.lower(): i for i, name in enumerate(_labels())}


def class_index(name_or_index: str | int) -> int:
    """The ImageNet index of a class given by name (case-insensitive) or by index.

    A name is matched exactly first, then as a substring of exactly one class name
    ("tabby" -> 281). Integers (or digit strings) are checked to lie in [0, 999].

    Raises
    ------
    ParameterError : unknown or ambiguous names (listing candidates), indices out of range

    Example
    -------
    >>> class_index("tiger cat"), class_index("goldfish"), class_index(504)
    (282, 1, 504)
    """
    if isinstance(name_or_index, bool):
        raise ParameterError(f"class={name_or_index!r} must be a class name or an index in [0, 999]")
    if isinstance(name_or_index, str) and name_or_index.strip().lstrip("-").isdigit():
        name_or_index = int(name_or_index.strip())
    if not isinstance(name_or_index, str) and hasattr(name_or_index, "__index__"):   # int, numpy integer
        idx = int(name_or_index)
        if not 0 <= idx < N_CLASSES:
            raise ParameterError(f"class={idx} is out of range; ImageNet indices run from 0 to {N_CLASSES - 1}")
        return idx
    if not isinstance(name_or_index, str):
        raise ParameterError(f"class={name_or_index!r} must be a class name or an index, "
                             f"got {type(name_or_index).__name__}")
    query = " ".join(name_or_index.lower().split())
    if not query:
        raise ParameterError("class='' is empty; give an ImageNet class name such as 'tabby cat'")
    lower = _lower_index()
    if query in lower:
        return lower[query]
    hits = [i for name, i in lower.items() if query in name]
    if len(hits) == 1:
        return hits[0]
    labels = _labels()
    if hits:
        shown = ", ".join(repr(labels[i]) for i in hits[:12])
        more = f" and {len(hits) - 12} more" if len(hits) > 12 else ""
        raise ParameterError(f"class={name_or_index!r} is ambiguous: it matches {shown}{more}")
    close = difflib.get_close_matches(query, list(lower), n=6, cutoff=0.6)
    hint = ("; did you mean " + ", ".join(repr(labels[lower[c]]) for c in close) + "?") if close else ""
    raise ParameterError(f"class={name_or_index!r} is not an ImageNet class name{hint}")


__all__ = ["imagenet_labels", "class_index", "N_CLASSES"]
