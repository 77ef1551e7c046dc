"""Extract the subset of the official Linnworks v1 spec that the Linnworks sandbox serves.

Reads the Swagger 2.0 files of ``LinnSystems/PublicApiSpecs`` (``1.0/{auth,locations,inventory,orders,
openorders,stock}.json``) and writes ``sandbox/linnworks/spec.json``: for each operation the path, verb,
parameters (name, type, whether the real server can bind it when absent), the response status and schema,
the per-minute rate limit parsed from the description, and every definition they reference (transitively).
Prose descriptions and examples are dropped.

The Swagger files do not say which parameters are nullable. That comes from the official C# SDK
(``LinnSystems/LinnworksNetSDK``, ``Controllers/*.cs``): the action signatures below are the parameter types
as .NET sees them. A value type without ``?`` and without a default (``Guid``, ``Int32``, ``Boolean``,
``Double``) cannot be left out: ASP.NET answers 400 "The request is invalid.".

Usage:
    python scripts/extract_linnworks_spec.py [--source /work/shared/linnworks-api]
        [--out sandbox/linnworks/spec.json]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

SPEC_FILES = ("auth", "locations", "inventory", "orders", "openorders", "stock")

# Operation -> the .NET type of each parameter, from the SDK action signatures ("= x" marks a default).
SDK_SIGNATURES: dict[str, dict[str, str]] = {
    "Auth/AuthorizeByApplication": {"request": "AuthorizeByApplicationRequest"},
    "Locations/AddLocation": {"location": "StockLocation"},
    "Locations/UpdateLocation": {"location": "StockLocation"},
    "Locations/GetLocation": {"pkStockLocationId": "Guid"},
    "Inventory/GetStockLocations": {},
    "Orders/GetAllOpenOrders": {
        "filters": "FieldsFilter",
        "sorting": "List<FieldSorting>",
        "fulfilmentCenter": "Guid",
        "additionalFilter": "String",
        "exactMatch": "Boolean = false",
    },
    "OpenOrders/AssignOrderIdentifier": {"request": "ChangeOrderIdentifierRequest"},
    "OpenOrders/UnassignOrderIdentifier": {"request": "ChangeOrderIdentifierRequest"},
    "OpenOrders/GetIdentifiers": {},
    "OpenOrders/SaveIdentifier": {"request": "SaveIdentifiersRequest"},
    "OpenOrders/DeleteIdentifier": {"request": "DeleteIdentifiersRequest"},
    "Orders/GetOrdersById": {"pkOrderIds": "List<Guid>"},
    "Orders/GetOrderById": {"pkOrderId": "Guid"},
    "Orders/CancelOrder": {
        "orderId": "Guid",
        "fulfilmentCenter": "Guid",
        "refund": "Double",
        "note": "String",
    },
    "Orders/ChangeStatus": {"orderIds": "List<Guid>", "status": "Int32"},
    "Orders/ProcessOrdersInBatch": {
        "ordersIds": "List<Guid>",
        "locationId": "Guid?",
        "context": "ClientContext = null",
    },
    "Orders/SetExtendedProperties": {"orderId": "Guid", "extendedProperties": "ExtendedProperty[]"},
    "Orders/GetExtendedProperties": {"orderId": "Guid"},
    "Orders/ProcessOrder": {
        "orderId": "Guid",
        "scanPerformed": "Boolean",
        "locationId": "Guid?",
        "context": "ClientContext = null",
    },
    "Orders/ProcessFulfilmentCentreOrder": {"orderId": "Guid"},
    "Orders/SetOrderCustomerInfo": {"orderId": "Guid", "info": "OrderCustomerInfo", "saveToCrm": "Boolean?"},
    "Orders/SetOrderGeneralInfo": {"orderId": "Guid", "info": "OrderGeneralInfo", "wasDraft": "Boolean"},
    "Orders/SetOrderNotes": {"orderId": "Guid", "orderNotes": "List<OrderNote>"},
    "Orders/GetOrderNotes": {"orderId": "Guid"},
    "Orders/SetOrderShippingInfo": {"orderId": "Guid", "info": "UpdateOrderShippingInfoRequest"},
    "Orders/UpdateOrderItem": {
        "orderId": "Guid",
        "orderItem": "OrderItem",
        "fulfilmentCenter": "Guid",
        "source": "String",
        "subSource": "String",
    },
    "Stock/SetStockLevel": {"stockLevels": "List<StockLevelUpdate>", "changeSource": "String = null"},
    "Stock/GetStockItems": {
        "keyWord": "String",
        "locationId": "Guid?",
        "entriesPerPage": "Int32",
        "pageNumber": "Int32",
        "excludeComposites": "Boolean = false",
        "excludeVariations": "Boolean = false",
        "excludeBatches": "Boolean = false",
    },
    "Stock/GetStockItemsFull": {
        "keyword": "String",
        "loadCompositeParents": "Boolean",
        "loadVariationParents": "Boolean",
        "entriesPerPage": "Int32",
        "pageNumber": "Int32",
        "dataRequirements": "List<StockInformationDataRequirement>",
        "searchTypes": "List<StockInformationSearchType>",
    },
    "Stock/GetStockItemsFullByIds": {"request": "GetStockItemsFullByIdsRequest"},
}

# Definition -> its properties typed ``Guid`` (not ``Guid?``) in the SDK's ClassBase/*.cs: Newtonsoft cannot
# read ``null`` into them, so a request carrying one is refused (400). Marked ``"x-nullable": false``.
SDK_NON_NULLABLE_GUIDS: dict[str, tuple[str, ...]] = {
    "AuthorizeByApplicationRequest": ("ApplicationId", "ApplicationSecret", "Token"),
    "CustomerAddress": ("CountryId",),
    "ExtendedProperty": ("RowId",),
    "Identifier": ("ImageId",),
    "OrderGeneralInfo": ("Location",),
    "OrderItem": ("ItemId", "RowId", "OrderId", "StockItemId"),
    "OrderNote": ("OrderNoteId", "OrderId"),
    "StockLevelUpdate": ("LocationId",),
    "StockLocation": ("StockLocationId",),
}

VALUE_TYPES = {"Guid", "Int32", "Int64", "Boolean", "Double", "Decimal", "DateTime"}
RATE_LIMIT = re.compile(r"Rate limit:\s*</b>.*?<b>(\d+)</b>.*?/\s*minute", re.DOTALL)
DROPPED_KEYS = {"description", "example", "summary", "readOnly"}


def strip_prose(node: Any) -> Any:
    """Drop descriptions and examples, keep structure (types, formats, enums, refs)."""
    if isinstance(node, dict):
        return {key: strip_prose(value) for key, value in node.items() if key not in DROPPED_KEYS}
    if isinstance(node, list):
        return [strip_prose(value) for value in node]
    return node


def is_required(dotnet_type: str) -> bool:
    """A .NET value type without ``?`` and without a default cannot be bound from nothing."""
    return "=" not in dotnet_type and dotnet_type.strip() in VALUE_TYPES


def parse_rate_limit(description: str) -> int:
    match = RATE_LIMIT.search(description)
    if match is None:
        raise ValueError("no rate limit in description")
    return int(match.group(1))


def schema_refs(node: Any) -> set[str]:
    """Names of all definitions a schema fragment refers to directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            found |= schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= schema_refs(value)
    return found


def spec_parameters(raw: dict[str, Any], definitions: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The API parameters of one operation (the synthetic ``<Controller>_<Method>Request`` unfolded)."""
    params: list[dict[str, Any]] = []
    for param in raw.get("parameters", []):
        if param["in"] == "body":
            ref = param["schema"]["$ref"].rsplit("/", 1)[-1]
            if param["name"] == ref and ref.endswith("Request") and "_" in ref:
                # One body object whose properties are the real parameter names.
                for prop, schema in definitions[ref]["properties"].items():
                    params.append({"name": prop, "schema": strip_prose(schema)})
                continue
            params.append({"name": param["name"], "schema": strip_prose(param["schema"])})
        else:
            schema = {key: value for key, value in param.items() if key not in {"name", "in", "required"}}
            params.append({"name": param["name"], "schema": strip_prose(schema)})
    signature = SDK_SIGNATURES[name]
    declared = {param["name"] for param in params}
    if declared != set(signature):
        raise ValueError(f"{name}: spec parameters {sorted(declared)} differ from SDK {sorted(signature)}")
    for param in params:
        param["dotnet_type"] = signature[param["name"]]
        param["required"] = is_required(signature[param["name"]])
    return params


def extract(source: Path) -> dict[str, Any]:
    """Build the spec subset from the Swagger files in ``source``."""
    operations: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for file_name in SPEC_FILES:
        document = json.loads((source / f"{file_name}.json").read_text())
        file_defs = document["definitions"]
        for path, verbs in document["paths"].items():
            name = path.removeprefix("/api/")
            if name not in SDK_SIGNATURES:
                continue
            ((verb, raw),) = verbs.items()
            responses = raw["responses"]
            status = sorted(responses)[0]
            operation = {
                "path": path,
                "verb": verb.upper(),
                "rate_limit": parse_rate_limit(raw.get("description", "")),
                "authenticated": bool(raw.get("security")),
                "parameters": spec_parameters(raw, file_defs, name),
                "response": {
                    "status": int(status),
                    "schema": strip_prose(responses[status].get("schema")),
                },
            }
            operations[name] = operation
            pending = schema_refs(operation)
            while pending:
                ref = pending.pop()
                if ref in definitions:
                    continue
                definitions[ref] = strip_prose(file_defs[ref])
                pending |= schema_refs(definitions[ref])
    mark_non_nullable_guids(definitions)
    missing = set(SDK_SIGNATURES) - set(operations)
    if missing:
        raise ValueError(f"operations not found in the spec: {sorted(missing)}")
    return {
        "source": "LinnSystems/PublicApiSpecs 1.0 (snapshot 4bfa52c); nullability from LinnworksNetSDK",
        "operations": dict(sorted(operations.items())),
        "definitions": dict(sorted(definitions.items())),
    }


def mark_non_nullable_guids(definitions: dict[str, Any]) -> None:
    """Mark the SDK's non-nullable Guid properties ``"x-nullable": false`` (the sandbox refuses a null)."""
    for name, properties in SDK_NON_NULLABLE_GUIDS.items():
        for prop in properties:
            schema = definitions[name]["properties"][prop]
            if schema.get("format") != "uuid":
                raise ValueError(f"{name}.{prop} is not a GUID in the spec")
            schema["x-nullable"] = False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/linnworks-api"))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent.parent / "sandbox/linnworks/spec.json"
    )
    args = parser.parse_args(argv)
    spec = extract(args.source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(spec, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(spec['operations'])} operations, {len(spec['definitions'])} definitions to {args.out}")


if __name__ == "__main__":
    main()
