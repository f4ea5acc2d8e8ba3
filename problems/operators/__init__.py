"""Seed LNS operators (destroy, repair, improve) and the registries that name them.

Importing the package imports every operator module, so the registries are complete as soon
as anything from here is used.
"""

from . import destroy, improve, repair
from .registry import DEFAULT_POOLS, DESTROY, IMPROVE, REGISTRIES, REPAIR, compiled, register

__all__ = [
    "DEFAULT_POOLS",
    "DESTROY",
    "IMPROVE",
    "REGISTRIES",
    "REPAIR",
    "compiled",
    "destroy",
    "improve",
    "register",
    "repair",
]
