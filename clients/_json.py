"""Reading a partner's JSON reply: orjson for speed, the standard library for what orjson refuses.

orjson parses the same documents to the same values several times faster, but refuses a few that
``json.loads`` accepts (UTF-16/32 or BOM-prefixed bytes, NaN/Infinity); those are read again by
``json.loads``, so what is accepted stays as it was. One difference remains: an integer beyond 64 bits
becomes a float (no partner field we read holds one: ids are GUIDs, counts and quantities small).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["loads"]


def loads(raw: bytes | str) -> Any:
    """The parsed JSON of ``raw``.

    Raises:
        ValueError: ``raw`` is not JSON (as ``json.loads`` would raise it).
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
