"""Reading reference-value tables (``bks.csv``, ``opt.csv``): the costs gaps are measured to.

A reported gap is only as good as the reference it is measured against, so a table with a
missing column, a non-numeric value or a repeated name is refused (one line naming the file
and row) rather than read with a silent hole in it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .format_error import InstanceFormatError, PathLike, read_text

__all__ = ["read_reference_values"]


def read_reference_values(csv_path: PathLike) -> dict[str, float]:
    """Reference costs by instance name from ``bks.csv`` or ``opt.csv``.

    The value column is ``bks`` or ``opt`` (whichever the header has); other columns are
    ignored. Raises :class:`InstanceFormatError` for a missing column, a non-numeric value or
    a repeated name, since a silently wrong reference would corrupt every reported gap.
    """
    path = Path(csv_path)
    rows = list(csv.DictReader(read_text(path).splitlines()))
    header = list(rows[0]) if rows else []
    column = next((c for c in ("bks", "opt") if c in header), None)
    if "name" not in header or column is None:
        raise InstanceFormatError(path, "need a 'name' column and a 'bks' or 'opt' column")
    values: dict[str, float] = {}
    for lineno, row in enumerate(rows, 2):
        name = (row["name"] or "").strip()
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise InstanceFormatError(
                path, f"line {lineno}: {column} {row[column]!r} is not a number"
            ) from None
        if name in values:
            raise InstanceFormatError(path, f"line {lineno}: {name!r} appears twice")
        values[name] = value
    return values
