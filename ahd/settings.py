"""Validated dataclass configs from loose values (command-line strings, stored JSON).

A task config is a dataclass checked in ``__post_init__``. Its values arrive as strings from
``--set FIELD=VALUE``, as JSON from a stored run on ``--resume``, or as Python objects from a
script; :func:`build_config` converts each to the field's annotated type first, so a bad value
is refused naming the field, and a stored run's settings rebuild the same config.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .durations import parse_duration

C = TypeVar("C")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("", "none")):
            if len(options) < len(typing.get_args(kind)):
                return None
        return _convert(name, options[0], value)
    if origin is tuple:
        return tuple(value) if not isinstance(value, str) else tuple(value.split(","))
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    return parse_duration(value)  # "90s", "5m": the time settings
            return float(value)
        if kind is Path:
            return Path(value)
        if kind is str:
            return str(value)
    except (TypeError, ValueError):
        kind_name = getattr(kind, "__name__", kind)
        raise ValueError(f"{name}: {value!r} is not a valid {kind_name}") from None
    return value


def build_config(cls: type[C], values: Mapping[str, Any]) -> C:
    """``cls(**values)`` with every value converted to its field's type.

    Raises
    ------
    ValueError
        Naming an unknown field (and the known ones) or a value of the wrong type; the
        config's own ``__post_init__`` checks follow.
    """
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown setting {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    return cls(**{k: _convert(k, hints[k], v) for k, v in values.items()})


def to_settings(config: Any) -> dict[str, Any]:
    """A config as JSON-ready field values (paths as strings) that :func:`build_config` reads."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = str(value) if isinstance(value, Path) else value
    return out
