"""Strict validation of request bodies and query parameters against the extracted ShipBob spec.

Covers the OpenAPI 3.0 subset the ShipBob file uses: ``$ref``, ``type`` (object, array, string, integer,
number, boolean), ``nullable``, ``properties``, ``additionalProperties: false``, ``required``, ``enum``,
``minLength``/``maxLength``, ``minItems``/``maxItems``, ``minimum``/``maximum``, ``oneOf``, and the
``int32``/``date-time`` formats. Errors come back the way ASP.NET model state reports them: a mapping of
JSON path to messages, which is the body ShipBob sends with a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SPEC_PATH", "Operation", "SpecValidator", "load_spec"]

SPEC_PATH = Path(__file__).with_name("spec.json")
_INT32 = (-(2**31), 2**31 - 1)
_REF_PREFIX = "#/components/schemas/"

Errors = dict[str, list[str]]


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The extracted spec (see scripts/extract_shipbob_spec.py)."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


class Operation:
    """One path + verb of the spec, and how to match a concrete request path to it."""

    def __init__(self, template: str, verb: str, spec: dict[str, Any]) -> None:
        self.template = template
        self.verb = verb.upper()
        self.spec = spec
        # A parameter fills one segment, or the part of it before a custom verb (``{orderId}:cancel``).
        pieces = re.split(r"(\{[^}]+\})", template.strip("/"))
        pattern = "".join(
            f"(?P<{piece[1:-1]}>[^/:]+)" if piece.startswith("{") else re.escape(piece) for piece in pieces
        )
        self._pattern = re.compile(pattern, re.IGNORECASE)

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters if ``path`` fits this template (case-insensitive literals), else None."""
        found = self._pattern.fullmatch(path.strip("/"))
        return found.groupdict() if found else None

    def parameters(self, location: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == location]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        schema: dict[str, Any] | None = self.spec.get("requestBody")
        return schema


class SpecValidator:
    """Validates values against the schemas of the extracted spec."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = spec or load_spec()
        self.schemas: dict[str, Any] = self.spec["schemas"]
        self.operations = [
            Operation(template, verb, operation)
            for template, verbs in self.spec["paths"].items()
            for verb, operation in verbs.items()
        ]

    def find(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
        """(operation, path params, path known): path known with no operation means 405."""
        known = False
        for operation in self.operations:
            params = operation.match(path)
            if params is None:
                continue
            known = True
            if operation.verb == method.upper():
                return operation, params, True
        return None, {}, known

    def validate(self, value: Any, schema: dict[str, Any], path: str = "") -> Errors:
        """Every way ``value`` breaks ``schema``, keyed by JSON path."""
        errors: Errors = {}
        self._check(value, schema, path, errors)
        return errors

    def validate_parameter(self, raw: str, parameter: dict[str, Any]) -> Errors:
        """A query/path/header value (text) against its parameter schema; arrays are comma separated."""
        schema = self._resolve(parameter.get("schema", {}))
        name = parameter["name"]
        if schema.get("type") == "array":
            items = self._resolve(schema.get("items", {}))
            errors: Errors = {}
            for part in raw.split(","):
                errors.update(self.validate(_coerce(part.strip(), items), items, name))
            return errors
        return self.validate(_coerce(raw, schema), schema, name)

    # --- internals ---------------------------------------------------------------------------------

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].removeprefix(_REF_PREFIX)]
        return schema

    def _check(self, value: Any, schema: dict[str, Any], path: str, errors: Errors) -> None:
        schema = self._resolve(schema)
        if value is None:
            if not schema.get("nullable") and schema.get("type") is not None:
                _add(errors, path, "The value cannot be null.")
            return
        if "oneOf" in schema:
            self._check_one_of(value, schema["oneOf"], path, errors)
            return
        kind = schema.get("type")
        checker = _TYPE_CHECKS.get(kind or "")
        if checker is not None and not checker(value, schema):
            _add(errors, path, f"The value is not a valid {schema.get('format') or kind}.")
            return
        if "enum" in schema and value not in schema["enum"]:
            _add(errors, path, f"The value '{value}' is not one of {', '.join(map(str, schema['enum']))}.")
        if kind == "object":
            self._check_object(value, schema, path, errors)
        elif kind == "array":
            self._check_array(value, schema, path, errors)
        elif kind == "string":
            _check_length(value, schema, path, errors)
        elif kind in ("integer", "number"):
            _check_range(value, schema, path, errors)

    def _check_one_of(self, value: Any, options: list[dict[str, Any]], path: str, errors: Errors) -> None:
        attempts = [self.validate(value, option, path) for option in options]
        if any(not attempt for attempt in attempts):
            return
        best = min(attempts, key=len)  # report the closest alternative's complaints
        for key, messages in best.items():
            for message in messages:
                _add(errors, key, message)

    def _check_object(self, value: dict[str, Any], schema: dict[str, Any], path: str, errors: Errors) -> None:
        properties: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if value.get(name) is None:
                _add(errors, _join(path, name), f"The {name} field is required.")
        for name, item in value.items():
            if name in properties:
                self._check(item, properties[name], _join(path, name), errors)
            elif schema.get("additionalProperties") is False:
                _add(errors, _join(path, name), f"Could not find member '{name}' on the object.")

    def _check_array(self, value: list[Any], schema: dict[str, Any], path: str, errors: Errors) -> None:
        low, high = schema.get("minItems", schema.get("minLength")), schema.get("maxItems")
        if low is not None and len(value) < low:
            _add(errors, path, f"The field requires at least {low} item(s).")
        if high is not None and len(value) > high:
            _add(errors, path, f"The field allows at most {high} item(s).")
        for index, item in enumerate(value):
            self._check(item, schema.get("items", {}), f"{path}[{index}]", errors)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path or "$", []).append(message)


def _is_int(value: Any, schema: dict[str, Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return schema.get("format") != "int32" or _INT32[0] <= value <= _INT32[1]


def _is_number(value: Any, schema: dict[str, Any]) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_string(value: Any, schema: dict[str, Any]) -> bool:
    if not isinstance(value, str):
        return False
    if schema.get("format") == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
    return True


def _is_object(value: Any, schema: dict[str, Any]) -> bool:
    return isinstance(value, dict)


def _is_array(value: Any, schema: dict[str, Any]) -> bool:
    return isinstance(value, list)


def _is_bool(value: Any, schema: dict[str, Any]) -> bool:
    return isinstance(value, bool)


_TYPE_CHECKS: dict[str, Callable[[Any, dict[str, Any]], bool]] = {
    "object": _is_object,
    "array": _is_array,
    "string": _is_string,
    "integer": _is_int,
    "number": _is_number,
    "boolean": _is_bool,
}


def _check_length(value: str, schema: dict[str, Any], path: str, errors: Errors) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        _add(errors, path, f"The field must be a string with a maximum length of {schema['maxLength']}.")
    if "minLength" in schema and len(value) < schema["minLength"]:
        _add(errors, path, f"The field must be a string with a minimum length of {schema['minLength']}.")


def _check_range(value: float, schema: dict[str, Any], path: str, errors: Errors) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        _add(errors, path, f"The field must be at least {schema['minimum']}.")
    if "maximum" in schema and value > schema["maximum"]:
        _add(errors, path, f"The field must be at most {schema['maximum']}.")


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """Text from a URL or header as the schema's type; left as text when it does not parse."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw
