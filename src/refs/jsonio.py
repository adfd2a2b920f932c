"""JSON in and out at C speed (orjson), with the standard library's exact leniency.

Service answers and cached payloads are parsed several times a run (split into records,
names read, normalised); orjson parses them several times faster than :mod:`json`.
Where orjson refuses what :mod:`json` accepts (integers beyond 64 bits, ``NaN``, lone
surrogates), the standard library decides, so no answer reads differently.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "loads"]


def loads(data: bytes | str) -> Any:
    """Parse JSON text; raises ValueError (``json.JSONDecodeError``) for what is not."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """Compact JSON text (UTF-8, not ASCII-escaped)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: a big integer, a lone surrogate …
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
