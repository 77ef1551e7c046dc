"""Extract the part of the ShipBob 1.0 OpenAPI file that the ShipBob sandbox serves.

Usage::

    python scripts/extract_shipbob_spec.py /path/to/shipbob-1.0.json sandbox/shipbob/spec.json

Keeps, for each operation the sandbox implements: the parameters (name, location, required, schema), the
request body schema (``application/json``), and per status the response schema and headers; plus every
component schema those reach. Prose (descriptions, summaries, examples) is dropped. The sandbox reads only
the output file, so tests never need the original.

One correction is applied and recorded under ``x-corrections``: the published file types a recipient's
address as ``RetailerProgramDataAddressViewModel``, whose ``type`` (MarkFor/ShipFrom) is required. That
is a retail (B2B) field; ShipBob's guides and every example create DTC orders without it. The sandbox
would otherwise demand a field no real client sends.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS: dict[str, tuple[str, ...]] = {
    "/1.0/channel": ("get",),
    "/1.0/order": ("get", "post"),
    "/1.0/order/{orderId}": ("get",),
    "/1.0/order/{orderId}/cancel": ("post",),
    "/1.0/order/{orderId}/shipment": ("get",),
    "/1.0/product": ("get", "post"),
    "/1.0/product/batch": ("post",),
    "/1.0/product/{productId}": ("get", "put"),
    "/1.0/inventory": ("get",),
}
PROSE = {"description", "summary", "example", "examples", "tags", "operationId", "x-ms-summary"}
SCHEMA_PREFIX = "#/components/schemas/"
RECIPIENT_INFO = "ShipBob.Orders.Presentation.ViewModels.RecipientInfoViewModel"
RECIPIENT_VIEW = "ShipBob.Orders.Presentation.ViewModels.RecipientViewModel"
RETAIL_ADDRESS = "ShipBob.Orders.Presentation.ViewModels.RetailerProgramDataAddressViewModel"
RECIPIENT_ADDRESS = "lw3pl.RecipientAddress"


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


def closure(schemas: dict[str, Any], roots: set[str]) -> dict[str, Any]:
    """Every schema reachable from ``roots``."""
    kept: dict[str, Any] = {}
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        kept[name] = strip_prose(schemas[name])
        pending.extend(referenced_schemas(kept[name]) - kept.keys())
    return kept


def correct_recipient_address(schemas: dict[str, Any]) -> list[dict[str, str]]:
    """Type a recipient's address without the retail-only required ``type``; returns what changed."""
    address = copy.deepcopy(schemas[RETAIL_ADDRESS])
    address["properties"].pop("type", None)
    address["required"] = [name for name in address.get("required", []) if name != "type"]
    schemas[RECIPIENT_ADDRESS] = address
    for holder in (RECIPIENT_INFO, RECIPIENT_VIEW):
        schemas[holder]["properties"]["address"] = {"$ref": SCHEMA_PREFIX + RECIPIENT_ADDRESS}
    return [
        {
            "schema": f"{RECIPIENT_INFO}, {RECIPIENT_VIEW}",
            "change": f"address -> {RECIPIENT_ADDRESS} (the retail address without its required 'type')",
            "why": "DTC orders carry no MarkFor/ShipFrom type; the published oneOf is a generator artefact",
        }
    ]


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's subset of ``spec``."""
    paths: dict[str, Any] = {}
    for path, verbs in OPERATIONS.items():
        paths[path] = {verb: extract_operation(spec["paths"][path][verb]) for verb in verbs}
    schemas = closure(spec["components"]["schemas"], referenced_schemas(paths))
    corrections = correct_recipient_address(schemas)
    schemas = closure(schemas, referenced_schemas(paths))  # drops what the correction left unreachable
    return {
        "source": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "x-corrections": corrections,
        "paths": paths,
        "schemas": schemas,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    Path(argv[2]).write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
