"""Deterministic seed data: the default account and an order factory (REFERENCE §12.10).

Everything random comes from one ``random.Random`` seeded by the sandbox, so the same seed and the same
sequence of admin calls give the same ids, SKUs, levels and orders.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.linnworks.account import Account, recalculate
from sandbox.linnworks.model import ZERO_GUID, BusinessError, Order, PostalService, StockItem, format_date
from sandbox.linnworks.spec import conform

__all__ = ["DEFAULT_POSTAL_SERVICES", "OrderSpec", "Seeder"]

TEMPLATE = json.loads(Path(__file__).with_name("order_template.json").read_text())

DEFAULT_POSTAL_SERVICES = (
    ("Royal Mail 1st Class", "Royal Mail"),
    ("Royal Mail Tracked 48", "Royal Mail"),
    ("DPD Next Day", "DPD"),
    ("Standard", "NONE"),
)
_PRODUCTS = (
    ("SOCK-BLK", "Socks, black", 1.2, 5.0, 0.1),
    ("SOCK-WHT", "Socks, white", 1.2, 5.0, 0.1),
    ("TEE-BLK-M", "T-shirt, black, M", 3.5, 15.0, 0.2),
    ("TEE-BLK-L", "T-shirt, black, L", 3.5, 15.0, 0.22),
    ("TEE-WHT-M", "T-shirt, white, M", 3.5, 15.0, 0.2),
    ("HOODIE-GRY-M", "Hoodie, grey, M", 9.0, 39.0, 0.6),
    ("HOODIE-GRY-L", "Hoodie, grey, L", 9.0, 39.0, 0.65),
    ("CAP-NAVY", "Cap, navy", 2.5, 12.0, 0.15),
    ("MUG-LOGO", "Mug with logo", 1.8, 9.5, 0.35),
    ("BOTTLE-STEEL", "Steel bottle 750ml", 4.2, 19.0, 0.3),
    ("TOTE-CANVAS", "Canvas tote bag", 1.5, 8.0, 0.2),
    ("NOTEBOOK-A5", "Notebook A5", 1.1, 6.5, 0.25),
    ("PEN-BLK-10", "Pens, black, pack of 10", 0.9, 4.5, 0.08),
    ("STICKER-SET", "Sticker set", 0.3, 3.0, 0.02),
    ("CANDLE-VAN", "Candle, vanilla", 2.2, 11.0, 0.4),
    ("SOAP-LAV", "Soap, lavender", 0.8, 4.0, 0.12),
    ("TOWEL-BATH", "Bath towel", 5.5, 22.0, 0.7),
    ("LAMP-DESK", "Desk lamp", 12.0, 45.0, 1.2),
)
Bundle = tuple[str, str, tuple[tuple[str, int], ...]]
_BUNDLES: tuple[Bundle, ...] = (
    ("BUNDLE-SOCKS-2", "Socks bundle (black + white)", (("SOCK-BLK", 1), ("SOCK-WHT", 1))),
    ("BUNDLE-GIFT", "Gift set (mug + candle + soap)", (("MUG-LOGO", 1), ("CANDLE-VAN", 1), ("SOAP-LAV", 2))),
)


def _bundles_of(skus: Sequence[str]) -> tuple[Bundle, ...]:
    """Two composite parents built from the first catalogue items (none if there are too few)."""
    if len(skus) < 4:
        return ()
    return (
        ("BUNDLE-1", f"Bundle: {skus[0]} + {skus[1]}", ((skus[0], 1), (skus[1], 1))),
        ("BUNDLE-2", f"Bundle: {skus[2]} + 2 x {skus[3]}", ((skus[2], 1), (skus[3], 2))),
    )


_NAMES = (
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Tim Berners-Lee",
    "Mary Somerville",
    "Dorothy Hodgkin",
)
_TOWNS = (
    ("Leeds", "West Yorkshire", "LS1 1AA"),
    ("York", "North Yorkshire", "YO1 7HH"),
    ("Bristol", "Bristol", "BS1 4DJ"),
    ("Manchester", "Greater Manchester", "M1 1AE"),
)
_SOURCES = (("SHOPIFY", "My Store"), ("AMAZON", "Amazon UK"), ("EBAY", "eBay UK"), ("DIRECT", ""))


@dataclass
class OrderSpec:
    """What to create; ``None`` in a flag means "mix": decided per order by the seeded RNG.

    Attributes:
        location_id: The location (fulfilment centre) the orders belong to.
        paid: Status PAID (else UNPAID). Mix: 85 % paid.
        parked: Parked (Marker 7). Mix: 10 %.
        locked: Locked. Mix: 5 %.
        identifiers: Identifier tags to put on every order (must exist).
        composite: Include a composite (bundle) line. Mix: 20 %.
        postal_service: Postal service id or name; ``None`` = a random seeded one.
        lines: Exact lines ``[{"sku": ..., "quantity": ...}]``; ``None`` = 1-3 random lines.
        received: ReceivedDate of the first order (default: now minus ``count`` minutes, one minute apart).
    """

    location_id: str = ZERO_GUID
    paid: bool | None = True
    parked: bool | None = False
    locked: bool | None = False
    identifiers: Sequence[str] = ()
    composite: bool | None = False
    postal_service: str | None = None
    lines: Sequence[dict[str, Any]] | None = None
    received: datetime | None = None


class Seeder:
    """Fills an :class:`Account` from a seeded RNG."""

    def __init__(self, account: Account, rng: random.Random) -> None:
        self.account = account
        self.rng = rng
        self._last_received: datetime | None = None

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def default_account(self, catalogue: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Postal services and ~20 stock items with levels at the Default location (identifiers are built in).

        Args:
            catalogue: Items to create instead of the built-in products, each ``{"sku", "title",
                "barcode"?, "level"?, "weight"?, "retail_price"?}``; two bundles of the first items are
                added as composite parents.
        """
        for name, vendor in DEFAULT_POSTAL_SERVICES:
            self.add_postal_service(name, vendor)
        if catalogue is None:
            for sku, title, cost, price, weight in _PRODUCTS:
                self.add_stock_item(sku, title, {ZERO_GUID: self.rng.randint(20, 200)}, cost, price, weight)
            bundles = _BUNDLES
        else:
            for entry in catalogue:
                self._add_catalogue_item(entry)
            skus = [str(entry["sku"]) for entry in catalogue]
            bundles = _bundles_of(skus)
        for sku, title, parts in bundles:
            components = [(self.account.items_by_sku[p.upper()].id, qty) for p, qty in parts]
            self.add_stock_item(sku, title, {}, 0.0, 25.0, 0.5, components=components)

    def _add_catalogue_item(self, entry: Mapping[str, Any]) -> None:
        level = entry.get("level")
        self.add_stock_item(
            str(entry["sku"]),
            str(entry.get("title") or entry["sku"]),
            {ZERO_GUID: int(level) if level is not None else self.rng.randint(20, 200)},
            float(entry.get("purchase_price", 1.0)),
            float(entry.get("retail_price", 10.0)),
            float(entry.get("weight", 0.2)),
            barcode=entry.get("barcode"),
        )

    def add_postal_service(self, name: str, vendor: str, service_id: str | None = None) -> PostalService:
        service = PostalService(id=(service_id or self.guid()).lower(), name=name, vendor=vendor)
        self.account.postal_services[service.id] = service
        return service

    def add_stock_item(
        self,
        sku: str,
        title: str,
        levels: dict[str, int],
        purchase_price: float = 1.0,
        retail_price: float = 5.0,
        weight: float = 0.1,
        *,
        components: list[tuple[str, int]] | None = None,
        barcode: str | None = None,
    ) -> StockItem:
        if sku.upper() in self.account.items_by_sku:
            raise BusinessError(f"SKU '{sku}' already exists")
        for location_id in levels:
            self.account.location(location_id)
        item = StockItem(
            id=self.guid(),
            int_id=len(self.account.items) + 1,
            sku=sku,
            title=title,
            barcode=barcode if barcode is not None else f"50{self.rng.randrange(10**10, 10**11)}",
            purchase_price=purchase_price,
            retail_price=retail_price,
            weight=weight,
            created=format_date(self.account.now() - timedelta(days=90)),
            components=components or [],
            levels=dict(levels),
        )
        self.account.items[item.id] = item
        self.account.items_by_sku[sku.upper()] = item
        self.account.stock_changed()
        return item

    # ------------------------------------------------------------------ orders
    def create_orders(self, count: int, spec: OrderSpec) -> list[str]:
        """Create ``count`` open orders; returns their ids in creation order."""
        self.account.location(spec.location_id)
        for tag in spec.identifiers:
            self.account.identifier(tag)
        start = spec.received or self.account.now() - timedelta(minutes=count)
        ids = [
            self._create_order(spec, self._received(start + timedelta(minutes=i))).id for i in range(count)
        ]
        self.account.stock_changed()
        return ids

    def _received(self, wanted: datetime) -> datetime:
        """Received dates strictly increase across admin calls, so "oldest first" is well defined."""
        if self._last_received is not None and wanted <= self._last_received:
            wanted = self._last_received + timedelta(seconds=1)
        self._last_received = wanted
        return wanted

    def _flag(self, value: bool | None, probability: float) -> bool:
        return self.rng.random() < probability if value is None else value

    def _create_order(self, spec: OrderSpec, received: datetime) -> Order:
        account = self.account
        num = account.next_num_order_id
        account.next_num_order_id += 1
        order_id = self.guid()
        paid = self._flag(spec.paid, 0.85)
        parked = self._flag(spec.parked, 0.10)
        locked = self._flag(spec.locked, 0.05)
        composite = self._flag(spec.composite, 0.20)
        service = self._postal_service(spec.postal_service)
        source, subsource = self.rng.choice(_SOURCES)
        doc = copy.deepcopy({k: v for k, v in TEMPLATE.items() if k in _ORDER_DETAILS_KEYS})
        doc.update(
            {
                "OrderId": order_id,
                "NumOrderId": num,
                "Processed": False,
                "ProcessedDateTime": None,
                "FulfilmentLocationId": spec.location_id,
                "ExtendedProperties": [],
                "Notes": [],
                "PaidDateTime": format_date(received + timedelta(minutes=1)) if paid else None,
                "TaxId": None,
            }
        )
        doc["GeneralInfo"].update(
            {
                "Status": 1 if paid else 0,
                "Marker": 7 if parked else 0,
                "IsParked": parked,
                "ReferenceNum": f"#{num}",
                "ExternalReferenceNum": str(num),
                "ReceivedDate": format_date(received),
                "Source": source,
                "SubSource": subsource,
                "Location": spec.location_id,
                "PIIRedactionDays": 0,
                "InvoicePrintError": None,
                "PickListPrintError": None,
            }
        )
        doc["ShippingInfo"].update({**service.as_dict(), "PostageCost": 3.5, "PackageCategory": "Default"})
        doc["CustomerInfo"] = self._customer(num)
        doc["TotalsInfo"].update({"PaymentMethod": source.title(), "CountryTaxRate": 20.0})
        order = Order(doc=doc, received=received, locked=locked, tags=[str(t) for t in spec.identifiers])
        doc["Items"] = self._lines(order, spec, composite)
        recalculate(order)
        order.doc = dict(conform(doc, {"$ref": "#/definitions/OrderDetails"}))
        account.orders[order_id] = order
        return order

    def _postal_service(self, wanted: str | None) -> PostalService:
        services = list(self.account.postal_services.values())
        if not services:
            raise BusinessError("No postal services seeded")
        if wanted is None:
            return self.rng.choice(services)
        for service in services:
            if wanted.lower() in {service.id, service.name.lower()}:
                return service
        raise BusinessError(f"Postal service {wanted} not found")

    def _customer(self, num: int) -> dict[str, Any]:
        name = self.rng.choice(_NAMES)
        town, region, postcode = self.rng.choice(_TOWNS)
        address = {
            "EmailAddress": f"{name.split()[0].lower()}.{num}@example.com",
            "Address1": f"{self.rng.randint(1, 200)} High Street",
            "Address2": "",
            "Address3": "",
            "Town": town,
            "Region": region,
            "PostCode": postcode,
            "Country": "United Kingdom",
            "Continent": "Europe",
            "FullName": name,
            "Company": "",
            "PhoneNumber": f"0113 496 {self.rng.randint(0, 9999):04d}",
            "CountryId": "b5c0aa26-0d0d-4c62-9e5b-5e4bd8a6b4d3",
        }
        return {"ChannelBuyerName": name.split()[0].lower(), "Address": address, "BillingAddress": None}

    def _lines(self, order: Order, spec: OrderSpec, composite: bool) -> list[dict[str, Any]]:
        account = self.account
        if spec.lines is not None:
            wanted = []
            for line in spec.lines:
                item = account.items_by_sku.get(str(line["sku"]).upper())
                if item is None:
                    raise BusinessError(f"Could not find stock item with SKU '{line['sku']}'")
                wanted.append((item, int(line.get("quantity", 1))))
        else:
            simple = [i for i in account.items.values() if not i.is_composite_parent]
            bundles = [i for i in account.items.values() if i.is_composite_parent]
            if not simple:
                raise BusinessError("No stock items seeded")
            picks = self.rng.sample(simple, k=min(len(simple), self.rng.randint(1, 3)))
            wanted = [(item, self.rng.randint(1, 3)) for item in picks]
            if composite and bundles:
                wanted.append((self.rng.choice(bundles), 1))
        return [self._line(order, item, qty) for item, qty in wanted]

    def _line(self, order: Order, item: StockItem, quantity: int) -> dict[str, Any]:
        line: dict[str, Any] = copy.deepcopy(TEMPLATE["Items"][0])
        children = [
            self._line(order, self.account.items[child], qty * quantity)
            for child, qty in item.components
            if child in self.account.items
        ]
        for child in children:
            child.update({"PricePerUnit": 0.0, "Discount": 0.0})
        line.update(
            {
                "ItemId": item.id,
                "ItemNumber": item.sku,
                "SKU": item.sku,
                "ItemSource": order.general["Source"],
                "Title": item.title,
                "Quantity": quantity,
                "PricePerUnit": item.retail_price,
                "TaxRate": item.tax_rate,
                "Weight": item.weight,
                "ChannelSKU": item.sku,
                "ChannelTitle": item.title,
                "CompositeSubItems": children,
                "StockItemIntId": item.int_id,
                "AddedDate": order.general["ReceivedDate"],
                "RowId": self.guid(),
                "OrderId": order.id,
                "StockItemId": item.id,
            }
        )
        if children:
            line["CompositeAvailablity"] = 0
        return line


_ORDER_DETAILS_KEYS = {"GeneralInfo", "ShippingInfo", "CustomerInfo", "TotalsInfo", "FolderName", "Items"}
