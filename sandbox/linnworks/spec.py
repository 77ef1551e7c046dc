"""The Linnworks operations the sandbox serves, and the binder that decides whether a call would bind.

Built from ``spec.json`` (extracted from the official spec by ``scripts/extract_linnworks_spec.py``), never
from the client's models. The binder behaves like ASP.NET Web API model binding, but stricter in one way
on purpose: an unknown parameter or object property is a failure, not something silently ignored, so a
misspelt field in a client fails here even where the real API would drop it. A ``null`` for a property
the SDK types as a non-nullable ``Guid`` (``"x-nullable": false`` in the spec) is refused, as Newtonsoft
refuses it.

Values arrive either as wire text (query string, form fields: ``str``) or as decoded JSON values (JSON
bodies). Wire text follows the SDK's form conventions: bare GUIDs, raw strings, ``true``/``True``, plain
numbers, JSON text for lists and objects, and an empty value for null.

Public entry point for conformance tests::

    problems = validate_call("/api/Orders/GetOrdersById", "POST", {"pkOrderIds": '["…"]'})
    assert problems == []
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

__all__ = [
    "BindResult",
    "Operation",
    "Parameter",
    "Spec",
    "bind_parameters",
    "conform",
    "load_spec",
    "parse_guid",
    "validate_call",
]

SPEC_PATH = Path(__file__).with_name("spec.json")
_GUID = re.compile(
    r"^[{(]?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})[})]?$"
)
_INT = re.compile(r"^\s*[-+]?\d+\s*$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Parameter:
    """One API parameter: its declared name, schema, and whether it must be present."""

    name: str
    schema: Mapping[str, Any]
    required: bool
    dotnet_type: str = ""


@dataclass(frozen=True)
class Operation:
    """One Linnworks method, e.g. ``Orders/GetOrdersById``."""

    name: str
    path: str
    verb: str
    rate_limit: int
    authenticated: bool
    parameters: tuple[Parameter, ...]
    response_status: int
    response_schema: Mapping[str, Any] | None

    @cached_property
    def by_lower_name(self) -> dict[str, Parameter]:
        return {param.name.lower(): param for param in self.parameters}

    @cached_property
    def single_request(self) -> Parameter | None:
        """The ``request`` parameter of methods that take one wrapped object, else None."""
        if len(self.parameters) == 1 and self.parameters[0].name == "request":
            return self.parameters[0]
        return None


@dataclass(frozen=True)
class Spec:
    """All operations (keyed by lower-case path) and the definitions they reference."""

    operations: Mapping[str, Operation]
    definitions: Mapping[str, Mapping[str, Any]]

    def find(self, path: str) -> Operation | None:
        """The operation at ``path`` (``/api/Controller/Method``), matched case-insensitively like IIS."""
        return self.operations.get(path.rstrip("/").lower())

    def by_name(self, name: str) -> Operation:
        """The operation called ``name`` (``Controller/Method``, any case)."""
        return self.operations[f"/api/{name}".lower()]


@dataclass
class BindResult:
    """Decoded parameter values keyed by declared name, and the reasons binding failed (empty = bound)."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Load and index ``spec.json`` (cached)."""
    raw = json.loads(path.read_text())
    operations: dict[str, Operation] = {}
    for name, op in raw["operations"].items():
        operations[op["path"].lower()] = Operation(
            name=name,
            path=op["path"],
            verb=op["verb"],
            rate_limit=op["rate_limit"],
            authenticated=op["authenticated"],
            parameters=tuple(
                Parameter(p["name"], p["schema"], p["required"], p["dotnet_type"]) for p in op["parameters"]
            ),
            response_status=op["response"]["status"],
            response_schema=op["response"]["schema"],
        )
    return Spec(operations=operations, definitions=raw["definitions"])


def parse_guid(value: str) -> str | None:
    """A GUID in canonical lower-case form, or None when ``value`` is not a GUID (.NET ``Guid.Parse``)."""
    match = _GUID.match(value.strip())
    if match is None:
        return None
    return "-".join(match.groups()).lower()


class _Invalid(Exception):
    """A value does not decode to its declared type."""


class _Decoder:
    """Decodes one value against a schema fragment, collecting precise problems."""

    def __init__(self, spec: Spec, operation: str, redact: bool = False) -> None:
        self.spec = spec
        self.operation = operation
        self.redact = redact
        self.problems: list[str] = []

    def decode(self, value: Any, schema: Mapping[str, Any], where: str) -> Any:
        try:
            return self._decode(value, schema, where)
        except _Invalid as error:
            detail = f"does not decode to {_describe(schema)}" if self.redact else str(error)
            self.problems.append(f"{self.operation}: {where}: {detail}")
            return None

    def _decode(self, value: Any, schema: Mapping[str, Any], where: str) -> Any:
        if value is None:
            return None
        ref = schema.get("$ref")
        if ref is not None:
            name = ref.rsplit("/", 1)[-1]
            return self._object(value, name, where)
        kind = schema.get("type")
        if kind == "array":
            return self._array(value, schema["items"], where)
        if kind == "object":
            return self._map(value, schema, where)
        if "enum" in schema:
            return _enum(value, schema["enum"])
        return _scalar(value, kind, schema.get("format"))

    def _json_text(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.strip() == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise _Invalid(f"not valid JSON ({error.msg})") from None

    def _array(self, value: Any, items: Mapping[str, Any], where: str) -> list[Any] | None:
        value = self._json_text(value)
        if value is None:
            return None
        if not isinstance(value, list):
            raise _Invalid(f"expected a JSON array, got {type(value).__name__}")
        return [self.decode(item, items, f"{where}[{index}]") for index, item in enumerate(value)]

    def _map(self, value: Any, schema: Mapping[str, Any], where: str) -> dict[str, Any] | None:
        value = self._json_text(value)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Invalid(f"expected a JSON object, got {type(value).__name__}")
        values = schema.get("additionalProperties", {"type": "string"})
        return {str(key): self.decode(item, values, f"{where}.{key}") for key, item in value.items()}

    def _object(self, value: Any, definition: str, where: str) -> dict[str, Any] | None:
        value = self._json_text(value)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Invalid(f"expected a JSON object ({definition}), got {type(value).__name__}")
        properties = self.spec.definitions[definition].get("properties", {})
        by_lower = {name.lower(): name for name in properties}
        decoded: dict[str, Any] = {}
        for key, item in value.items():
            declared = by_lower.get(str(key).lower())
            if declared is None:
                self.problems.append(
                    f"{self.operation}: {where}: unknown property '{key}' in {definition}; "
                    f"declared: {', '.join(properties)}"
                )
                continue
            decoded[declared] = self.decode(item, properties[declared], f"{where}.{declared}")
            if decoded[declared] is None and properties[declared].get("x-nullable") is False:
                self.problems.append(
                    f"{self.operation}: {where}.{declared}: null for a non-nullable Guid in {definition} "
                    "(send a GUID: a new row needs a fresh one)"
                )
        return decoded


def _describe(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    if ref is not None:
        return str(ref).rsplit("/", 1)[-1]
    return "/".join(str(part) for part in (schema.get("type"), schema.get("format")) if part)


def _enum(value: Any, names: list[str]) -> str:
    """An enum given by name (any case) or by ordinal, returned as its canonical name."""
    if isinstance(value, bool):
        raise _Invalid(f"expected one of {_short(names)}, got {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and _INT.match(value)):
        ordinal = int(value)
        if 0 <= ordinal < len(names):
            return names[ordinal]
        raise _Invalid(f"enum ordinal {ordinal} out of range 0..{len(names) - 1}")
    if isinstance(value, str):
        for name in names:
            if name.lower() == value.strip().lower():
                return name
    raise _Invalid(f"expected one of {_short(names)}, got {value!r}")


def _short(names: list[str]) -> str:
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _scalar(value: Any, kind: str | None, fmt: str | None) -> Any:
    if kind == "string" and fmt == "uuid":
        return _guid(value)
    if kind == "string" and fmt == "date-time":
        return _datetime(value)
    if kind == "string" or kind is None:
        if isinstance(value, dict | list):
            raise _Invalid(f"expected a string, got {type(value).__name__}")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "integer":
        return _integer(value)
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return _boolean(value)
    raise _Invalid(f"unsupported schema type {kind!r}")


def _guid(value: Any) -> str | None:
    if not isinstance(value, str):
        raise _Invalid(f"expected a GUID string, got {type(value).__name__}")
    if value.strip() == "":
        return None
    parsed = parse_guid(value)
    if parsed is None:
        raise _Invalid(f"{value!r} is not a GUID")
    return parsed


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        raise _Invalid(f"expected an ISO 8601 date string, got {type(value).__name__}")
    text = value.strip()
    if text == "":
        return None
    if not _ISO.match(text):
        raise _Invalid(f"{value!r} is not an ISO 8601 date")
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        text = head + "." + digits.group(0)[:6].ljust(6, "0") + tail[digits.end() :]
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        raise _Invalid(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if value.strip() == "":
            return None
        if _INT.match(value):
            return int(value)
    raise _Invalid(f"expected an integer, got {value!r}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        raise _Invalid(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value.strip() == "":
            return None
        try:
            return float(value)
        except ValueError:
            pass
    raise _Invalid(f"expected a number, got {value!r}")


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in {"true", "false"}:
            return text == "true"
    raise _Invalid(f"expected true or false, got {value!r}")


def bind_parameters(
    operation: Operation,
    params: Mapping[str, Any],
    *,
    spec: Spec | None = None,
    allow_unwrapped: bool = True,
    redact_values: bool = False,
) -> BindResult:
    """Bind raw parameters (names in any case; wire text or JSON values) to ``operation``'s parameters.

    Args:
        operation: The method being called.
        params: Parameters merged from query string, form and JSON body.
        spec: The spec holding the definitions (default: the packaged one).
        allow_unwrapped: For single-``request`` methods, accept the request object's properties given
            directly (flat form fields or an unwrapped JSON object) instead of inside ``request``.
        redact_values: Keep values out of the problem texts (for calls that carry credentials).

    Returns:
        The decoded values keyed by declared parameter name (absent parameters are omitted) and the
        problems found; any problem means the real server would answer 400 "The request is invalid.".
    """
    spec = spec or load_spec()
    decoder = _Decoder(spec, operation.name, redact_values)
    result = BindResult()
    undecodable: set[str] = set()
    declared = operation.by_lower_name
    wrapper = operation.single_request
    if wrapper is not None and allow_unwrapped and params and "request" not in {k.lower() for k in params}:
        params = {"request": dict(params)}
    for key, value in params.items():
        parameter = declared.get(key.lower())
        if parameter is None:
            names = ", ".join(p.name for p in operation.parameters) or "(none)"
            result.problems.append(f"unknown parameter '{key}' for {operation.name}; declared: {names}")
            continue
        if parameter.name in result.values:
            result.problems.append(f"parameter '{parameter.name}' given twice for {operation.name}")
            continue
        before = len(decoder.problems)
        result.values[parameter.name] = decoder.decode(value, parameter.schema, parameter.name)
        if len(decoder.problems) > before:
            undecodable.add(parameter.name)
    for parameter in operation.parameters:
        if (
            parameter.required
            and result.values.get(parameter.name) is None
            and parameter.name not in undecodable
        ):
            result.problems.append(
                f"missing required parameter '{parameter.name}' for {operation.name} "
                f"(non-nullable {parameter.dotnet_type})"
            )
    result.problems.extend(decoder.problems)
    return result


def validate_call(path: str, verb: str, params: Mapping[str, Any]) -> list[str]:
    """Decide whether the real Linnworks API would bind this call; conformance tests call this.

    Args:
        path: ``/api/<Controller>/<Method>`` (case-insensitive), or ``<Controller>/<Method>``.
        verb: ``GET`` or ``POST`` (both are accepted by every method).
        params: Parameter name -> value, as the client would send them: ``str`` for wire text (query
            string or form field; JSON text for lists and objects), any other type for a value taken from
            a JSON body.

    Returns:
        Problems, each a precise sentence (unknown parameter or property, missing required parameter,
        value not of the declared type, unknown path or verb). Empty means the call binds.
    """
    spec = load_spec()
    full_path = path if path.lower().startswith("/api/") else f"/api/{path.lstrip('/')}"
    operation = spec.find(full_path)
    if operation is None:
        return [f"unknown path {path!r}: not a Linnworks method the sandbox knows"]
    if verb.upper() not in {"GET", "POST"}:
        return [f"verb {verb!r} not accepted by {operation.name} (GET or POST)"]
    return bind_parameters(operation, params, spec=spec).problems


def conform(value: Any, schema: Mapping[str, Any], spec: Spec | None = None) -> Any:
    """``value`` reshaped to ``schema``: objects get exactly the declared properties, in spec order
    (absent ones as null), so documents the sandbox builds cannot drift from the wire shape."""
    spec = spec or load_spec()
    if value is None:
        return None
    ref = schema.get("$ref")
    if ref is not None and isinstance(value, Mapping):
        properties = spec.definitions[ref.rsplit("/", 1)[-1]].get("properties", {})
        return {name: conform(value.get(name), prop, spec) for name, prop in properties.items()}
    if schema.get("type") == "array" and isinstance(value, list):
        return [conform(item, schema["items"], spec) for item in value]
    return value
