"""Durations as people write them on the command line: ``30d``, ``12h``, ``90m``, ``2w``."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``30d``, ``12h``, ``1.5h``, ``45m``, ``10s``, ``2w``).

    Raises ValueError naming the input and the expected form.
    """
    m = _DURATION.match(text)
    if not m:
        msg = f"{text!r} is not a duration: expected a number and a unit s, m, h, d or w (e.g. 30d, 12h)"
        raise ValueError(msg)
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def format_duration(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
