"""Read and write instances in the OR-Library ``binpack`` text format.

The format (J. E. Beasley's OR-Library, files ``binpack1.txt`` ... ``binpack8.txt``)::

    P                          number of instances in the file
    name                       one word, e.g. u120_00
    capacity n_items best      e.g. 150 120 48  (best = best known bin count, 0 if unknown)
    size                       n_items lines, one item size each
    ...                        (next instance: name, header, sizes)

Leading and trailing blanks and empty lines are ignored. A malformed file is refused with a
one-line ``ValueError`` of the form ``FILE:LINE: what is wrong``, because a user adding their
own instances needs to know exactly where to look.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .instances import Instance


class _Lines:
    """Non-empty stripped lines of a file with their numbers, and error messages at them."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self._it: Iterator[tuple[int, str]] = (
            (n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()
        )
        self.last = 0

    def error(self, message: str, line: int | None = None) -> ValueError:
        return ValueError(f"{self.path}:{self.last if line is None else line}: {message}")

    def next(self, what: str) -> str:
        try:
            self.last, line = next(self._it)
        except StopIteration:
            raise ValueError(f"{self.path}:{self.last}: file ends early, expected {what}") from None
        return line

    def rest(self) -> tuple[int, str] | None:
        return next(self._it, None)


def _number(lines: _Lines, token: str, what: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise lines.error(f"{what} must be a number, got {token!r}") from None
    if not math.isfinite(value):
        raise lines.error(f"{what} must be finite, got {token!r}")
    return value


def _count(lines: _Lines, token: str, what: str, minimum: int) -> int:
    value = _number(lines, token, what)
    if not value.is_integer() or value < minimum:
        raise lines.error(f"{what} must be a whole number >= {minimum}, got {token!r}")
    return int(value)


def read_orlib(path: str | os.PathLike[str]) -> list[Instance]:
    """All instances of an OR-Library ``binpack`` file (see the module docstring).

    Raises
    ------
    ValueError
        ``FILE:LINE: message`` for a malformed file; ``FILE: ...`` if it cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read instance file: {exc}") from None
    lines = _Lines(path, text)
    first = lines.next("the number of instances").split()
    if len(first) != 1:
        raise lines.error(f"first line must be the number of instances, got {' '.join(first)!r}")
    count = _count(lines, first[0], "the number of instances", 1)
    out: list[Instance] = []
    seen: set[str] = set()
    for _ in range(count):
        name = lines.next("an instance name")
        if len(name.split()) != 1:
            raise lines.error(f"instance name must be one word, got {name!r}")
        if name in seen:
            raise lines.error(f"instance name {name!r} appears twice")
        seen.add(name)
        header = lines.next(f"'capacity n_items best_known' of {name}").split()
        if len(header) != 3:
            raise lines.error(f"expected 'capacity n_items best_known' for {name}, "
                              f"got {len(header)} fields")
        header_line = lines.last
        capacity = _number(lines, header[0], "capacity")
        if capacity <= 0:
            raise lines.error(f"capacity must be positive, got {header[0]!r}")
        n_items = _count(lines, header[1], "n_items", 1)
        best = _count(lines, header[2], "best_known", 0)
        items = []
        for k in range(n_items):
            token = lines.next(f"item {k + 1} of {n_items} of {name}")
            if len(token.split()) != 1:
                raise lines.error(f"expected one item size per line, got {token!r}")
            size = _number(lines, token, "item size")
            if not 0 < size <= capacity * (1 + 1e-9):
                raise lines.error(f"item size {token} is not in (0, capacity {header[0]}]")
            items.append(size)
        try:
            out.append(Instance(name, capacity, items, best or None))
        except ValueError as exc:
            raise lines.error(str(exc), header_line) from None
    extra = lines.rest()
    if extra is not None:
        raise lines.error(f"unexpected content after {count} instances: {extra[1][:40]!r}",
                          extra[0])
    return out


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_orlib(path: str | os.PathLike[str], instances: Sequence[Instance]) -> Path:
    """Write ``instances`` in the OR-Library format (atomically); return the path.

    ``best_known`` is written as 0 when unknown, which :func:`read_orlib` reads back as None.
    """
    if not instances:
        raise ValueError("write_orlib needs at least one instance")
    names = [inst.name for inst in instances]
    if len(set(names)) != len(names):
        raise ValueError("instance names must be unique within a file")
    parts = [str(len(instances))]
    for inst in instances:
        parts.append(inst.name)
        parts.append(f"{_format(inst.capacity)} {inst.n_items} {inst.best_known or 0}")
        parts.extend(_format(x) for x in inst.items)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".orlib-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts) + "\n")
    os.replace(tmp, path)
    return path


__all__ = ["read_orlib", "write_orlib"]
