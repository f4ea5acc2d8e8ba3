"""Reading and writing VRPLIB/TSPLIB instances, VRPLIB solutions and reference-value tables.

The stable import path of the benchmark-file readers and writers (``ahd solve``, the
reports, the benchmarks and the tests import them from here). Each kind of file has its own
module:

:mod:`ahd.problems.instance_reader`
    :func:`read_instance`: ``.vrp`` / ``.tsp`` files, every TSPLIB95 explicit layout, and
    the conventions (depot first, name from the file stem, ``TYPE : OVRP``).
:mod:`ahd.problems.instance_writer`
    :func:`write_instance`, which :func:`read_instance` reads back exactly.
:mod:`ahd.problems.solution_files`
    :func:`read_solution`, :func:`write_solution` and :func:`format_solution` (the text
    written): VRPLIB ``.sol`` files.
:mod:`ahd.problems.reference_values`
    :func:`read_reference_values`: ``bks.csv`` / ``opt.csv`` tables.
:mod:`ahd.problems.format_error`
    :class:`InstanceFormatError`, the one-line ``"<file>: <problem>"`` error they all raise.
"""

from __future__ import annotations

from .format_error import InstanceFormatError, PathLike
from .instance_reader import read_instance
from .instance_writer import write_instance
from .reference_values import read_reference_values
from .solution_files import format_solution, read_solution, write_solution

__all__ = [
    "InstanceFormatError", "PathLike", "format_solution", "read_instance",
    "read_reference_values", "read_solution", "write_instance", "write_solution",
]
