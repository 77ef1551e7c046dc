"""Extract the part of ShipBob's OpenAPI document that the ShipBob sandbox serves.

Usage::

    python scripts/extract_shipbob_spec.py SOURCE.json [OUTPUT.json]

``SOURCE.json`` is ShipBob's published document for one API version (e.g. ``shipbob-2026-01.json``);
``OUTPUT.json`` defaults to ``sandbox/shipbob/spec.json`` in this repository. The version comes from the
document (``info.version``); its paths carry it as their first segment (``/2026-01/order``).

Keeps, for each operation the sandbox implements: the parameters (name, location, required, schema), the
request body schema (``application/json``), and per status the response schema and headers; plus every
component schema those reach. ``allOf`` parts are merged into the schema that holds them (the sandbox's
validator then sees one object with every property, which is how ShipBob's generator meant it). Prose
(descriptions, summaries, examples) is dropped. The sandbox and the tests read only the output file.

One correction is applied and recorded under ``x-corrections``: the cursor-paged lists (``GET /product``,
``GET /inventory-level``) answer with a ``next`` link that carries a ``Cursor`` query parameter the
published operations do not list; the sandbox must accept the links it hands out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS: dict[str, tuple[str, ...]] = {
    "/order": ("get", "post"),
    "/order/{orderId}": ("get",),
    "/order/{orderId}:cancel": ("post",),
    "/shipment:batchUpdateTrackingUpload": ("post",),
    "/shipment/{shipmentId}:updateAddress": ("put",),
    "/shipment/{shipmentId}:getLineItems": ("get",),
    "/shipment/{shipmentId}:updateLineItems": ("post",),
    "/product": ("get", "post"),
    "/product/{productId}": ("patch",),
    "/inventory-level": ("get",),
}
CURSOR_PAGED = ("/product", "/inventory-level")
PROSE = {"description", "summary", "example", "examples", "tags", "operationId", "x-ms-summary", "x-name"}
SCHEMA_PREFIX = "#/components/schemas/"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "sandbox" / "shipbob" / "spec.json"


def strip_prose(node: Any) -> Any:
    """A copy of ``node`` without human-readable prose (property names are data, never prose)."""
    if isinstance(node, dict):
        return {
            key: _strip_properties(value) if key == "properties" else strip_prose(value)
            for key, value in node.items()
            if key not in PROSE
        }
    if isinstance(node, list):
        return [strip_prose(value) for value in node]
    return node


def _strip_properties(properties: Any) -> Any:
    if not isinstance(properties, dict):
        return strip_prose(properties)
    return {name: strip_prose(schema) for name, schema in properties.items()}


def referenced_schemas(node: Any) -> set[str]:
    """Names of the component schemas ``node`` refers to directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_PREFIX):
                found.add(value.removeprefix(SCHEMA_PREFIX))
            else:
                found |= referenced_schemas(value)
    elif isinstance(node, list):
        for value in node:
            found |= referenced_schemas(value)
    return found


def extract_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """Parameters, JSON request body and responses of one operation."""
    out: dict[str, Any] = {"parameters": strip_prose(operation.get("parameters", []))}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        out["requestBody"] = strip_prose(body["schema"])
    responses: dict[str, Any] = {}
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {}).get("application/json")
        responses[status] = {
            "schema": strip_prose(content["schema"]) if content else None,
            "headers": sorted(response.get("headers", {})),
        }
    out["responses"] = responses
    return out


def merge_all_of(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``allOf`` parts (refs resolved, recursively) merged into one object schema."""
    parts = schema.get("allOf")
    if not parts:
        return schema
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    properties = dict(merged.get("properties", {}))
    required = list(merged.get("required", []))
    for part in parts:
        ref = part.get("$ref", "")
        base = schemas[ref.removeprefix(SCHEMA_PREFIX)] if ref else part
        base = merge_all_of(schemas, base)
        properties = {**base.get("properties", {}), **properties}
        required += [name for name in base.get("required", []) if name not in required]
    merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def closure(schemas: dict[str, Any], roots: set[str]) -> dict[str, Any]:
    """Every schema reachable from ``roots``, with ``allOf`` merged."""
    kept: dict[str, Any] = {}
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept[name] = strip_prose(merge_all_of(schemas, schemas[name]))
        pending.extend(referenced_schemas(kept[name]) - kept.keys())
    return kept


def accept_cursor(paths: dict[str, Any], version: str) -> list[dict[str, str]]:
    """Let the cursor-paged lists take the ``Cursor`` their own ``next`` links carry."""
    cursor = {"in": "query", "name": "Cursor", "required": False, "schema": {"type": "string"}}
    changed = []
    for path in CURSOR_PAGED:
        operation = paths[f"/{version}{path}"]["get"]
        operation["parameters"] = [*operation["parameters"], cursor]
        changed.append(f"GET /{version}{path}")
    return [
        {
            "schema": ", ".join(changed),
            "change": "query parameter 'Cursor' added",
            "why": "the paged reply's next/prev links carry it; the published parameters omit it",
        }
    ]


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's subset of ``spec``."""
    version = spec["info"]["version"]
    paths: dict[str, Any] = {}
    for path, verbs in OPERATIONS.items():
        full = f"/{version}{path}"
        paths[full] = {verb: extract_operation(spec["paths"][full][verb]) for verb in verbs}
    corrections = accept_cursor(paths, version)
    schemas = closure(spec["components"]["schemas"], referenced_schemas(paths))
    return {
        "source": {"title": spec["info"]["title"], "version": version},
        "x-corrections": corrections,
        "paths": paths,
        "schemas": schemas,
    }


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    output = Path(argv[2]) if len(argv) == 3 else DEFAULT_OUTPUT
    output.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
