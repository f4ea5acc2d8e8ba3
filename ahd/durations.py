"""Durations as the CLI accepts them: ``90s``, ``5m``, ``1h``, ``1h30m``, or bare seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)")


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``text``; raises ``ValueError`` with the accepted forms on anything else."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        s = text.strip().lower()
        try:
            seconds = float(s)
        except ValueError:
            pos = 0
            seconds = 0.0
            for m in _PART.finditer(s):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if pos != len(s) or not s:
                raise ValueError(
                    f"invalid duration {text!r}: use e.g. 90s, 5m, 1h, 1h30m or a number of seconds"
                ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"duration must be positive and finite, got {text!r}")
    return seconds
