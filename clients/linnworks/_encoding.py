"""Parameters to wire text, the way Linnworks' own SDK writes them (REFERENCE section 1.3).

One form field (or query parameter) per parameter the spec declares: JSON text for objects and lists, the
bare GUID, the raw string, ``true``/``false``, plain numbers, and an empty value for a null GUID.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ._limits import EndpointSpec

__all__ = ["encode_fields", "to_json_text"]


def encode_fields(endpoint: str, spec: EndpointSpec, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Encode ``values`` as (name, text) pairs in spec order; every declared parameter, nothing else.

    Raises:
        TypeError: the caller passed a parameter set that differs from the spec (a bug in this client).
    """
    if values.keys() != _declared(spec):
        declared = [name for name, _ in spec.params]
        raise TypeError(f"Linnworks {endpoint}: parameters {sorted(values)} differ from the spec {declared}")
    return [(name, _encode_value(kind, values[name])) for name, kind in spec.params]


@cache
def _declared(spec: EndpointSpec) -> frozenset[str]:
    """The parameter names of ``spec`` (worked out once per endpoint: this runs on every call)."""
    return frozenset(name for name, _ in spec.params)


def _encode_value(kind: str, value: Any) -> str:
    if kind == "json":
        return to_json_text(value)
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "guid":
        return str(UUID(str(value)))
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def to_json_text(value: Any) -> str:
    """Compact JSON text of a model, list, mapping or scalar (models by their spec aliases)."""
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value
