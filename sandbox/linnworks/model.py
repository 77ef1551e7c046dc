"""The sandbox's Linnworks account: locations, stock, postal services, identifiers and orders.

State is plain Python objects guarded by the server's single lock. Orders are kept as documents in the
``OrderDetails`` wire shape (from the spec and the captured example), plus the flags Linnworks does not show
on that shape (locked, cancelled, identifier tags).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ZERO_GUID",
    "BusinessError",
    "Order",
    "PostalService",
    "StockItem",
    "dotnet_nulls",
    "format_date",
    "new_location",
]

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
UNSET_DATE = "0001-01-01T00:00:00Z"
_NAMESPACE = uuid.UUID("6f1c0a57-3c1e-4a4e-9f3e-6d1f1b7d1e01")


class BusinessError(Exception):
    """A rule Linnworks enforces in its own code: 400 ``{"Code": "-", "Message": ...}``."""

    def __init__(self, message: str, code: str | None = "-") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def format_date(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as Linnworks writes dates."""
    utc = moment.astimezone(UTC)
    # strftime's %Y does not zero-pad years below 1000 on Linux; Linnworks' unset date is 0001-01-01.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def dotnet_nulls(value: Any) -> Any:
    """``value`` as .NET (Newtonsoft, nulls included) writes it: an empty list or string, which a .NET object
    holds as an unset (null) collection or string, becomes ``null``, at every depth."""
    if isinstance(value, dict):
        return {key: dotnet_nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dotnet_nulls(item) for item in value] or None
    return None if value == "" else value


def stable_guid(*parts: object) -> str:
    """A GUID derived from ``parts`` (for row ids that must not change between reads)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))


LOCATION_FIELDS: dict[str, Any] = {
    "StockLocationId": ZERO_GUID,
    "StockLocationIntId": 0,
    "LocationName": None,
    "IsFulfillmentCenter": False,
    "FulfilmentCenterDeductStockWhenProcessed": False,
    "CountInOrderUntilAcknowledgement": False,
    "IsWarehouseManaged": False,
    "IsNotTrackable": False,
    "LocationTag": None,
    "Address1": None,
    "Address2": None,
    "City": None,
    "County": None,
    "Country": None,
    "ZipCode": None,
}


def new_location(fields: dict[str, Any], location_id: str, int_id: int) -> dict[str, Any]:
    """A full ``StockLocation`` record: the given fields over defaults (omitted fields are cleared)."""
    record = {**LOCATION_FIELDS, **{k: v for k, v in fields.items() if k in LOCATION_FIELDS}}
    for flag in ("IsFulfillmentCenter", "FulfilmentCenterDeductStockWhenProcessed"):
        record[flag] = bool(record[flag])
    for flag in ("CountInOrderUntilAcknowledgement", "IsWarehouseManaged", "IsNotTrackable"):
        record[flag] = bool(record[flag])
    record["StockLocationId"] = location_id
    record["StockLocationIntId"] = int_id
    return record


@dataclass
class PostalService:
    """A shipping service orders can be assigned to."""

    id: str
    name: str
    vendor: str

    def as_dict(self) -> dict[str, str]:
        return {"PostalServiceId": self.id, "PostalServiceName": self.name, "Vendor": self.vendor}


@dataclass
class StockItem:
    """An inventory item with a level per location (absent location = 0)."""

    id: str
    int_id: int
    sku: str
    title: str
    barcode: str
    purchase_price: float
    retail_price: float
    weight: float
    created: str
    tax_rate: float = 20.0
    category: str = "Default"
    components: list[tuple[str, int]] = field(default_factory=list)
    is_variation_parent: bool = False
    levels: dict[str, int] = field(default_factory=dict)
    updated: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_composite_parent(self) -> bool:
        return bool(self.components)

    def as_admin_dict(self) -> dict[str, Any]:
        return {
            "StockItemId": self.id,
            "StockItemIntId": self.int_id,
            "SKU": self.sku,
            "Title": self.title,
            "Barcode": self.barcode,
            "IsCompositeParent": self.is_composite_parent,
            "Components": [{"StockItemId": item, "Quantity": qty} for item, qty in self.components],
            "Levels": dict(self.levels),
        }


@dataclass
class Order:
    """One order: its ``OrderDetails`` document plus flags the document does not carry."""

    doc: dict[str, Any]
    received: datetime
    locked: bool = False
    cancelled: bool = False
    tags: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.doc["OrderId"])

    @property
    def general(self) -> dict[str, Any]:
        info: dict[str, Any] = self.doc["GeneralInfo"]
        return info

    @property
    def location(self) -> str:
        return str(self.doc["FulfilmentLocationId"])

    @property
    def processed(self) -> bool:
        return bool(self.doc["Processed"])

    @property
    def parked(self) -> bool:
        return bool(self.general["IsParked"])

    def ensure_editable(self) -> None:
        """Processed (and cancelled) orders cannot be edited."""
        if self.processed:
            raise BusinessError("Order is processed")

    def leaf_lines(self) -> list[dict[str, Any]]:
        """The lines that hold stock: composite children replace their parent line."""
        leaves: list[dict[str, Any]] = []
        for line in self.doc["Items"]:
            leaves.extend(line["CompositeSubItems"] or [line])
        return leaves
