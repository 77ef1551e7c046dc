"""Business rules of the sandbox's Linnworks account (REFERENCE §12, items 9-21).

Every public method is called with the server lock held and returns wire-shaped values (dicts, lists)
ready for ``json.dumps``. Violations raise :class:`BusinessError` (400 ``{"Code": "-", ...}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sandbox.linnworks.filters import check_supported, order_matches, sort_orders
from sandbox.linnworks.model import (
    ZERO_GUID,
    BusinessError,
    Order,
    PostalService,
    StockItem,
    format_date,
    new_location,
    stable_guid,
)
from sandbox.linnworks.spec import conform

__all__ = ["Account", "ProcessingOptions"]

SYSTEM_IDENTIFIERS = (
    (1, "AMAZON_PRIME", "Amazon Prime"),
    (2, "EBAY_GSP", "eBay Global Shipping"),
    (3, "SCHEDULED_DELIVERY", "Scheduled delivery"),
    (4, "PICKWAVE_COMPLETE", "Pickwave Complete"),
)


EMPTY_ORDER: dict[str, Any] = conform(
    {"OrderId": ZERO_GUID, "NumOrderId": 0, "Processed": False, "FulfilmentLocationId": ZERO_GUID},
    {"$ref": "#/definitions/OrderDetails"},
)
"""``new OrderDetails()`` as .NET writes it: value types at their defaults, every reference null."""


class ProcessingOptions:
    """Switches for behaviour the reference marks UNVERIFIED (defaults are the SIM-CHOICEs)."""

    def __init__(self) -> None:
        self.process_failure_as_400 = False
        self.change_status_skips_parked = True
        self.max_ids_per_call: int | None = None


class Account:
    """One Linnworks tenant's data."""

    def __init__(self, now: Callable[[], datetime], new_guid: Callable[[], str]) -> None:
        self.now = now
        self.new_guid = new_guid
        self.options = ProcessingOptions()
        self.locations: dict[str, dict[str, Any]] = {}
        self.items: dict[str, StockItem] = {}
        self.items_by_sku: dict[str, StockItem] = {}
        self.postal_services: dict[str, PostalService] = {}
        self.identifiers: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, Order] = {}
        self.next_num_order_id = 100001
        self._in_orders: dict[tuple[str, str], int] | None = None
        self.add_location_record({"LocationName": "Default"}, ZERO_GUID)
        for identifier_id, tag, name in SYSTEM_IDENTIFIERS:
            self.identifiers[tag.upper()] = _identifier(identifier_id, tag, name, is_custom=False)

    # ----------------------------------------------------------------- helpers
    def stock_changed(self) -> None:
        """Forget the cached in-orders figures (an order or its lines changed)."""
        self._in_orders = None

    def in_orders(self) -> dict[tuple[str, str], int]:
        """Units held by open, unlocked orders per (stock item, location)."""
        if self._in_orders is None:
            totals: dict[tuple[str, str], int] = {}
            for order in self.orders.values():
                if order.processed or order.locked:
                    continue
                for line in order.leaf_lines():
                    key = (str(line["StockItemId"]), order.location)
                    totals[key] = totals.get(key, 0) + int(line["Quantity"])
            self._in_orders = totals
        return self._in_orders

    def order(self, order_id: str | None) -> Order:
        found = self.orders.get(order_id or "")
        if found is None:
            raise BusinessError(f"Order {order_id} not found")
        return found

    def location(self, location_id: str | None) -> dict[str, Any]:
        found = self.locations.get(location_id or ZERO_GUID)
        if found is None:
            raise BusinessError(f"Location {location_id} not found")
        return found

    def check_id_count(self, ids: Sequence[Any]) -> None:
        cap = self.options.max_ids_per_call
        if cap is not None and len(ids) > cap:
            raise BusinessError(f"The maximum items count for this call is {cap}", code=None)

    # --------------------------------------------------------------- locations
    def add_location_record(self, fields: dict[str, Any], location_id: str) -> dict[str, Any]:
        int_id = max((loc["StockLocationIntId"] for loc in self.locations.values()), default=0) + 1
        record = new_location(fields, location_id, int_id)
        self.locations[location_id] = record
        return record

    def add_location(self, location: dict[str, Any] | None) -> None:
        if not location:
            raise BusinessError("location is empty")
        name = (location.get("LocationName") or "").strip()
        if not name:
            raise BusinessError("Location name is required")
        if any(loc["LocationName"].lower() == name.lower() for loc in self.locations.values()):
            raise BusinessError(f"Location with name '{name}' already exists")
        wanted = location.get("StockLocationId") or ZERO_GUID
        if wanted in self.locations and wanted != ZERO_GUID:
            raise BusinessError(f"Location {wanted} already exists")
        location_id = wanted if wanted != ZERO_GUID else self.new_guid()
        self.add_location_record({**location, "LocationName": name}, location_id)

    def update_location(self, location: dict[str, Any] | None) -> None:
        if not location:
            raise BusinessError("location is empty")
        current = self.location(location.get("StockLocationId") or ZERO_GUID)
        name = (location.get("LocationName") or "").strip()
        if current["StockLocationId"] == ZERO_GUID and name != "Default":
            raise BusinessError("The Default location cannot be renamed")
        if not name:
            raise BusinessError("Location name is required")
        for other in self.locations.values():
            if other is not current and other["LocationName"].lower() == name.lower():
                raise BusinessError(f"Location with name '{name}' already exists")
        record = new_location({**location, "LocationName": name}, current["StockLocationId"], 0)
        record["StockLocationIntId"] = current["StockLocationIntId"]
        self.locations[current["StockLocationId"]] = record
        self.stock_changed()

    def get_location(self, location_id: str | None) -> dict[str, Any]:
        return self.location(location_id)

    def stock_locations(self) -> list[dict[str, Any]]:
        return list(self.locations.values())

    # ------------------------------------------------------------- identifiers
    def identifier(self, tag: str | None) -> dict[str, Any]:
        found = self.identifiers.get((tag or "").upper())
        if found is None:
            raise BusinessError("Identifier not found")
        return found

    def get_identifiers(self) -> list[dict[str, Any]]:
        return sorted(self.identifiers.values(), key=lambda ident: int(ident["IdentifierId"]))

    def save_identifier(self, request: dict[str, Any] | None) -> dict[str, Any]:
        wanted = (request or {}).get("Identifier")
        if not wanted:
            raise BusinessError("request is empty", code=None)
        identifier_id = wanted.get("IdentifierId") or 0
        if identifier_id == 0:
            return self._create_identifier(wanted)
        for record in self.identifiers.values():
            if record["IdentifierId"] == identifier_id:
                if not record["IsCustom"]:
                    raise BusinessError("System identifiers cannot be changed")
                if wanted.get("Name") is not None:
                    record["Name"] = wanted["Name"]
                record["ImageUrl"] = wanted.get("ImageUrl", record["ImageUrl"])
                return record
        raise BusinessError(f"Identifier {identifier_id} not found")

    def _create_identifier(self, wanted: dict[str, Any]) -> dict[str, Any]:
        tag = (wanted.get("Tag") or "").strip()
        if not tag:
            raise BusinessError("Identifier tag is required")
        if tag.upper() in self.identifiers:
            raise BusinessError(f"Identifier with tag '{tag}' already exists")
        next_id = max(int(ident["IdentifierId"]) for ident in self.identifiers.values()) + 1
        record = _identifier(next_id, tag, wanted.get("Name") or tag, is_custom=True)
        record["ImageUrl"] = wanted.get("ImageUrl")
        self.identifiers[tag.upper()] = record
        return record

    def delete_identifier(self, request: dict[str, Any] | None) -> None:
        record = self.identifier((request or {}).get("Tag"))
        if not record["IsCustom"]:
            raise BusinessError("System identifiers cannot be deleted")
        del self.identifiers[str(record["Tag"]).upper()]
        for order in self.orders.values():
            order.tags = [tag for tag in order.tags if tag.upper() != str(record["Tag"]).upper()]

    def change_identifier(self, request: dict[str, Any] | None, assign: bool) -> dict[str, list[str]]:
        request = request or {}
        record = self.identifier(request.get("Tag"))
        order_ids = [oid for oid in request.get("OrderIds") or [] if oid is not None]
        self.check_id_count(order_ids)
        if assign:
            for oid in order_ids:
                if oid in self.orders:
                    self.orders[oid].ensure_editable()
        tag = str(record["Tag"]).upper()
        changed: list[str] = []
        not_changed: list[str] = []
        for oid in order_ids:
            order = self.orders.get(oid)
            has = order is not None and tag in (t.upper() for t in order.tags)
            if order is None or order.processed or has == assign:
                not_changed.append(oid)
                continue
            if assign:
                order.tags.append(str(record["Tag"]))
            else:
                order.tags = [t for t in order.tags if t.upper() != tag]
            changed.append(oid)
        return {"Changed": changed, "NotChanged": not_changed}

    # ------------------------------------------------------------------ orders
    def render_order(self, order: Order) -> dict[str, Any]:
        """The ``OrderDetails`` wire shape (identifiers rendered from the current definitions)."""
        identifiers = [self.identifiers[t.upper()] for t in order.tags if t.upper() in self.identifiers]
        general = {**order.general, "Identifiers": identifiers or None, "Notes": len(order.doc["Notes"])}
        return {**order.doc, "GeneralInfo": general}

    def orders_by_id(self, ids: Sequence[str | None] | None) -> list[dict[str, Any]]:
        ids = [oid for oid in ids or [] if oid is not None]
        self.check_id_count(ids)
        return [self.render_order(self.orders[oid]) for oid in ids if oid in self.orders]

    def order_by_id(self, order_id: str | None) -> dict[str, Any]:
        """The order, or for an unknown id the "empty class": a default ``OrderDetails`` (zero ids, no
        GeneralInfo), which is what Linnworks answers instead of an error."""
        found = self.orders.get(order_id or "")
        return EMPTY_ORDER if found is None else self.render_order(found)

    def open_orders(
        self,
        location_id: str | None,
        filters: dict[str, Any] | None,
        sorting: list[dict[str, Any]] | None,
        additional: str | None,
        exact: bool,
    ) -> list[str]:
        check_supported(filters, sorting)
        location = location_id or ZERO_GUID
        now = self.now()
        candidates = [o for o in self.orders.values() if not o.processed and o.location == location]
        matched = [
            o for o in candidates if order_matches(o, filters, additional, exact, now, self.identifiers)
        ]
        return [o.id for o in sort_orders(matched, sorting)]

    def cancel(self, order_id: str | None, location_id: str | None, note: str | None) -> None:
        order = self.order(order_id)
        order.ensure_editable()
        if order.parked:
            raise BusinessError("Cannot cancel a parked order")
        if order.locked:
            raise BusinessError("Cannot cancel a locked order")
        if (location_id or ZERO_GUID) != order.location:
            raise BusinessError("Order is not in the given fulfilment center")
        moment = self.now()
        order.doc["Processed"] = True
        order.doc["ProcessedDateTime"] = format_date(moment)
        order.general["HoldOrCancel"] = True
        order.cancelled = True
        if note:
            order.doc["Notes"].append(self._note(order, {"Note": note, "Internal": True}, moment))
        self.stock_changed()

    def change_status(self, order_ids: Sequence[str | None] | None, status: int) -> list[str]:
        if status not in range(5):
            raise BusinessError(f"Invalid status {status}")
        ids = [oid for oid in order_ids or [] if oid is not None]
        self.check_id_count(ids)
        orders = [self.orders[oid] for oid in ids if oid in self.orders]
        for order in orders:
            order.ensure_editable()
        changed: list[str] = []
        for order in orders:
            if order.parked and self.options.change_status_skips_parked:
                continue
            order.general["Status"] = status
            if status == 1 and order.doc["PaidDateTime"] is None:
                order.doc["PaidDateTime"] = format_date(self.now())
            changed.append(order.id)
        return changed

    def process(self, order_id: str | None, *, fulfilment_centre: bool) -> dict[str, Any]:
        """Process one order; failures come back as ``Processed: false`` with an ``Error``."""
        try:
            self._process(order_id, fulfilment_centre)
        except BusinessError as error:
            if self.options.process_failure_as_400:
                raise
            return {"OrderId": order_id or ZERO_GUID, "Processed": False, "Error": error.message}
        return {"OrderId": order_id, "Processed": True, "Error": None}

    def process_batch(self, order_ids: Sequence[str | None] | None) -> list[dict[str, Any]]:
        ids = list(order_ids or [])
        self.check_id_count(ids)
        return [self.process(oid, fulfilment_centre=False) for oid in ids]

    def _process(self, order_id: str | None, fulfilment_centre: bool) -> None:
        order = self.order(order_id)
        if order.processed:
            raise BusinessError("Order is processed")
        if order.locked:
            raise BusinessError("Order is locked")
        if order.parked:
            raise BusinessError("Order is parked")
        location = self.location(order.location)
        if fulfilment_centre and not location["IsFulfillmentCenter"]:
            raise BusinessError("Order is not in a fulfilment centre location")
        moment = self.now()
        order.doc["Processed"] = True
        order.doc["ProcessedDateTime"] = format_date(moment)
        deducts = not location["IsFulfillmentCenter"] or location["FulfilmentCenterDeductStockWhenProcessed"]
        if deducts:
            for line in order.leaf_lines():
                item = self.items.get(str(line["StockItemId"]))
                if item is not None:
                    level = item.levels.get(order.location, 0) - int(line["Quantity"])
                    self._set_level(item, order.location, level, "Order processed", moment)
        self.stock_changed()

    def set_shipping_info(self, order_id: str | None, info: dict[str, Any] | None) -> dict[str, Any]:
        order = self.order(order_id)
        order.ensure_editable()
        info = info or {}
        shipping = order.doc["ShippingInfo"]
        service_id = info.get("PostalServiceId")
        if service_id is not None:
            service = self.postal_services.get(service_id)
            if service is None:
                raise BusinessError(f"Postal service {service_id} not found")
            shipping.update(service.as_dict())
        for key in ("TotalWeight", "ItemWeight", "TrackingNumber", "ManualAdjust"):
            if info.get(key) is not None:
                shipping[key] = info[key]
        if info.get("PostageCost") is not None:
            shipping["PostageCost"] = float(info["PostageCost"])
            _recalculate(order)
        return {"TotalsInfo": order.doc["TotalsInfo"], "ShippingInfo": shipping}

    def set_general_info(self, order_id: str | None, info: dict[str, Any] | None) -> None:
        order = self.order(order_id)
        order.ensure_editable()
        for key, value in (info or {}).items():
            if key in _WRITABLE_GENERAL:
                order.general[key] = format_date(value) if isinstance(value, datetime) else value
        if isinstance((info or {}).get("ReceivedDate"), datetime):
            order.received = (info or {})["ReceivedDate"]
        if "IsParked" in (info or {}) or "Marker" in (info or {}):
            parked = bool(order.general["IsParked"]) or order.general["Marker"] == 7
            order.general["IsParked"] = parked
            order.general["Marker"] = (
                7 if parked else (order.general["Marker"] if order.general["Marker"] != 7 else 0)
            )

    def set_customer_info(self, order_id: str | None, info: dict[str, Any] | None) -> dict[str, Any]:
        order = self.order(order_id)
        order.ensure_editable()
        info = info or {}
        customer = order.doc["CustomerInfo"]
        if "ChannelBuyerName" in info:
            customer["ChannelBuyerName"] = info["ChannelBuyerName"]
        for key in ("Address", "BillingAddress"):
            if key in info:
                customer[key] = None if info[key] is None else {**_BLANK_ADDRESS, **info[key]}
        return dict(order.doc["TotalsInfo"])

    def update_item(
        self, order_id: str | None, item: dict[str, Any] | None, location: str | None
    ) -> dict[str, Any]:
        order = self.order(order_id)
        order.ensure_editable()
        if not item:
            raise BusinessError("orderItem is empty")
        if (location or ZERO_GUID) != order.location:
            raise BusinessError("Order is not in the given fulfilment center")
        line = next((ln for ln in order.doc["Items"] if ln["RowId"] == item.get("RowId")), None)
        if line is None:
            raise BusinessError(f"Order item {item.get('RowId')} not found")
        sku = item.get("SKU")
        if sku is not None and sku != line["SKU"]:
            stock = self.items_by_sku.get(sku.upper())
            if stock is None:
                raise BusinessError(f"Could not find stock item with SKU '{sku}'")
            line.update(
                {"SKU": stock.sku, "ItemNumber": stock.sku, "ItemId": stock.id, "StockItemId": stock.id}
            )
            line.update({"StockItemIntId": stock.int_id, "Title": stock.title, "Weight": stock.weight})
        for key in _WRITABLE_ITEM:
            if item.get(key) is not None:
                line[key] = item[key]
        if int(line["Quantity"]) <= 0:
            raise BusinessError("Quantity must be greater than zero")
        _price_line(line)
        _recalculate(order)
        self.stock_changed()
        weight = order.doc["ShippingInfo"]["ItemWeight"]
        return {
            "TotalsInfo": order.doc["TotalsInfo"],
            "Item": line,
            "ItemWeight": weight,
            "TotalWeight": weight,
        }

    def set_extended_properties(self, order_id: str | None, props: list[dict[str, Any]] | None) -> list[Any]:
        order = self.order(order_id)
        order.ensure_editable()
        rows: list[dict[str, Any]] = []
        for prop in props or []:
            row_id = prop.get("RowId") or ZERO_GUID
            rows.append(
                {
                    "RowId": row_id if row_id != ZERO_GUID else self.new_guid(),
                    "Name": prop.get("Name"),
                    "Value": prop.get("Value"),
                    "Type": prop.get("Type"),
                }
            )
        order.doc["ExtendedProperties"] = rows
        return rows

    def extended_properties(self, order_id: str | None) -> list[Any]:
        return list(self.order(order_id).doc["ExtendedProperties"])

    def set_notes(self, order_id: str | None, notes: list[dict[str, Any]] | None) -> None:
        order = self.order(order_id)
        moment = self.now()
        order.doc["Notes"] = [self._note(order, note, moment) for note in notes or []]

    def notes(self, order_id: str | None) -> list[Any]:
        return list(self.order(order_id).doc["Notes"])

    def _note(self, order: Order, note: dict[str, Any], moment: datetime) -> dict[str, Any]:
        note_id = note.get("OrderNoteId") or ZERO_GUID
        date = note.get("NoteDate")
        return {
            "OrderNoteId": note_id if note_id != ZERO_GUID else self.new_guid(),
            "OrderId": order.id,
            "NoteDate": format_date(date if isinstance(date, datetime) else moment),
            "Internal": bool(note.get("Internal")),
            "Note": note.get("Note"),
            "CreatedBy": note.get("CreatedBy") or "API",
            "NoteTypeId": note.get("NoteTypeId"),
        }

    # ------------------------------------------------------------------- stock
    def _set_level(
        self, item: StockItem, location_id: str, level: int, operation: str, moment: datetime
    ) -> None:
        item.levels[location_id] = level
        item.updated[location_id] = (format_date(moment), operation)

    def set_stock_levels(
        self, updates: list[dict[str, Any]] | None, source: str | None
    ) -> list[dict[str, Any]]:
        updates = [u for u in updates or [] if u is not None]
        self.check_id_count(updates)
        resolved: list[tuple[StockItem, str, int]] = []
        for update in updates:
            sku = update.get("SKU") or ""
            item = self.items_by_sku.get(sku.upper())
            if item is None:
                raise BusinessError(f"Could not find stock item with SKU '{sku}'")
            location_id = update.get("LocationId") or ZERO_GUID
            self.location(location_id)
            resolved.append((item, location_id, int(update.get("Level") or 0)))
        moment = self.now()
        for item, location_id, level in resolved:
            self._set_level(item, location_id, level, source or "Stock level set", moment)
        return [self.stock_level(item, location_id) for item, location_id, _ in resolved]

    def stock_level(self, item: StockItem, location_id: str) -> dict[str, Any]:
        """A ``StockItemLevel`` row."""
        location = self.locations[location_id]
        level = item.levels.get(location_id, 0)
        in_orders = self.in_orders().get((item.id, location_id), 0)
        updated, operation = item.updated.get(location_id, (item.created, "Created"))
        return {
            "Location": {
                "StockLocationId": location_id,
                "StockLocationIntId": location["StockLocationIntId"],
                "LocationName": location["LocationName"],
                "LocationTag": location["LocationTag"],
                "IsFulfillmentCenter": location["IsFulfillmentCenter"],
                "IsWarehouseManaged": location["IsWarehouseManaged"],
                "BinRack": None,
            },
            "StockLevel": level,
            "StockValue": round(level * item.purchase_price, 2),
            "MinimumLevel": 0,
            "InOrderBook": in_orders,
            "Due": 0,
            "JIT": False,
            "InOrders": in_orders,
            "Available": level - in_orders,
            "UnitCost": item.purchase_price,
            "SKU": item.sku,
            "AutoAdjust": False,
            "LastUpdateDate": updated,
            "LastUpdateOperation": operation,
            "rowid": stable_guid("level", item.id, location_id),
            "PendingUpdate": False,
            "StockItemPurchasePrice": item.purchase_price,
            "StockItemId": item.id,
            "StockItemIntId": item.int_id,
        }

    def _item_base(self, item: StockItem) -> dict[str, Any]:
        return {
            "ItemNumber": item.sku,
            "ItemTitle": item.title,
            "BarcodeNumber": item.barcode,
            "MetaData": "",
            "isBatchedStockType": False,
            "PurchasePrice": item.purchase_price,
            "RetailPrice": item.retail_price,
            "TaxRate": item.tax_rate,
            "PostalServiceId": ZERO_GUID,
            "PostalServiceName": None,
            "CategoryId": stable_guid("category", item.category),
            "CategoryName": item.category,
            "PackageGroupId": ZERO_GUID,
            "PackageGroupName": None,
            "Height": 0.0,
            "Width": 0.0,
            "Depth": 0.0,
            "Weight": item.weight,
            "CreationDate": item.created,
            "InventoryTrackingType": 0,
            "BatchNumberScanRequired": False,
            "SerialNumberScanRequired": False,
            "StockItemId": item.id,
            "StockItemIntId": item.int_id,
        }

    def _levels(self, item: StockItem, wanted: bool) -> list[dict[str, Any]]:
        return [self.stock_level(item, loc) for loc in self.locations] if wanted else []

    def _search(self, keyword: str | None, fields: Iterable[str]) -> list[StockItem]:
        term = (keyword or "").strip().lower()
        items = sorted(self.items.values(), key=lambda i: i.int_id)
        if not term:
            return items
        getters: dict[str, Callable[[StockItem], str]] = {
            "SKU": lambda i: i.sku,
            "Title": lambda i: i.title,
            "Barcode": lambda i: i.barcode,
        }
        chosen = [getters[name] for name in fields]
        return [i for i in items if any(term in get(i).lower() for get in chosen)]

    def stock_items(
        self,
        keyword: str | None,
        location_id: str | None,
        per_page: int,
        page: int,
        exclude_composites: bool,
        exclude_variations: bool,
    ) -> dict[str, Any]:
        if location_id is not None:
            self.location(location_id)
        per_page = max(1, min(per_page, 200))
        page = max(page, 1)
        items = [
            i
            for i in self._search(keyword, ("SKU", "Title", "Barcode"))
            if not (exclude_composites and i.is_composite_parent)
            and not (exclude_variations and i.is_variation_parent)
        ]
        chunk = items[(page - 1) * per_page : page * per_page]
        return {
            "PageNumber": page,
            "EntriesPerPage": per_page,
            "TotalEntries": len(items),
            "TotalPages": (len(items) + per_page - 1) // per_page,
            "Data": [self._stock_item(item, location_id) for item in chunk],
        }

    def _stock_item(self, item: StockItem, location_id: str | None) -> dict[str, Any]:
        locations = [location_id] if location_id is not None else list(self.locations)
        quantity = sum(item.levels.get(loc, 0) for loc in locations)
        in_orders = sum(self.in_orders().get((item.id, loc), 0) for loc in locations)
        return {
            "ItemDescription": "",
            "Quantity": quantity,
            "InOrder": in_orders,
            "Due": 0,
            "MinimumLevel": 0,
            "Available": quantity - in_orders,
            "IsCompositeParent": item.is_composite_parent,
            "ShippedSeparately": False,
            "IsVariationParent": item.is_variation_parent,
            **self._item_base(item),
        }

    def stock_items_full(
        self,
        keyword: str | None,
        composites: bool,
        variations: bool,
        per_page: int,
        page: int,
        requirements: list[str] | None,
        search_types: list[str] | None,
    ) -> list[dict[str, Any]]:
        if not 1 <= per_page <= 200:
            raise BusinessError("Number must be between 1 and 200")
        if page < 1:
            raise BusinessError("Page number must be greater than 0")
        fields = [t for t in search_types or [] if t] or ["SKU", "Title", "Barcode"]
        items = [
            i
            for i in self._search(keyword, fields)
            if (composites or not i.is_composite_parent) and (variations or not i.is_variation_parent)
        ]
        chunk = items[(page - 1) * per_page : page * per_page]
        if not chunk:
            raise BusinessError("No items found with given filter.")
        wanted = "StockLevels" in (requirements or [])
        return [
            self._full_item(item, wanted, {"IsVariationParent": item.is_variation_parent}) for item in chunk
        ]

    def stock_items_by_ids(self, request: dict[str, Any] | None) -> dict[str, Any]:
        request = request or {}
        ids = [i for i in request.get("StockItemIds") or [] if i is not None]
        self.check_id_count(ids)
        wanted = "StockLevels" in (request.get("DataRequirements") or [])
        found = [self.items[i] for i in ids if i in self.items]
        extra = [{"IsCompositeParent": item.is_composite_parent} for item in found]
        return {
            "StockItemsFullExtended": [
                self._full_item(i, wanted, e) for i, e in zip(found, extra, strict=True)
            ]
        }

    def _full_item(self, item: StockItem, levels: bool, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "Suppliers": [],
            "StockLevels": self._levels(item, levels),
            "ItemChannelDescriptions": [],
            "ItemExtendedProperties": [],
            "ItemChannelTitles": [],
            "ItemChannelPrices": [],
            "Images": [],
            **self._item_base(item),
            **extra,
        }

    # ------------------------------------------------------------------- admin
    def admin_order(self, order: Order) -> dict[str, Any]:
        rendered = self.render_order(order)
        return {**rendered, "_Locked": order.locked, "_Cancelled": order.cancelled, "_Tags": list(order.tags)}


_WRITABLE_GENERAL = {
    "Status",
    "ReferenceNum",
    "SecondaryReference",
    "ExternalReferenceNum",
    "ReceivedDate",
    "Source",
    "SubSource",
    "SiteCode",
    "HoldOrCancel",
    "DespatchByDate",
    "Marker",
    "IsParked",
    "LabelPrinted",
    "InvoicePrinted",
    "PickListPrinted",
}
_WRITABLE_ITEM = (
    "Quantity",
    "PricePerUnit",
    "Discount",
    "TaxRate",
    "Title",
    "ChannelSKU",
    "ChannelTitle",
    "Weight",
)
_BLANK_ADDRESS: dict[str, Any] = {
    "EmailAddress": "",
    "Address1": "",
    "Address2": "",
    "Address3": "",
    "Town": "",
    "Region": "",
    "PostCode": "",
    "Country": "",
    "Continent": None,
    "FullName": "",
    "Company": "",
    "PhoneNumber": "",
    "CountryId": ZERO_GUID,
}


def _identifier(identifier_id: int, tag: str, name: str, *, is_custom: bool) -> dict[str, Any]:
    return {
        "IdentifierId": identifier_id,
        "IsCustom": is_custom,
        "ImageId": ZERO_GUID,
        "ImageUrl": None,
        "Tag": tag,
        "Name": name,
    }


def _price_line(line: dict[str, Any]) -> None:
    """Line money from unit price, quantity, discount and tax rate (prices include tax)."""
    gross = round(float(line["PricePerUnit"]) * int(line["Quantity"]) - float(line["Discount"]), 2)
    rate = float(line["TaxRate"])
    tax = round(gross - gross / (1 + rate / 100), 2)
    line.update({"CostIncTax": gross, "Cost": round(gross - tax, 2), "Tax": tax, "TaxCostInclusive": True})


def _recalculate(order: Order) -> None:
    """Totals and weights from the lines and the postage cost."""
    lines = order.doc["Items"]
    totals = order.doc["TotalsInfo"]
    shipping = order.doc["ShippingInfo"]
    subtotal = round(sum(float(line["CostIncTax"]) for line in lines), 2)
    tax_rate = float(totals["CountryTaxRate"])
    postage = float(shipping["PostageCost"])
    postage_ex = round(postage / (1 + tax_rate / 100), 2)
    weight = round(sum(float(line["Weight"]) * int(line["Quantity"]) for line in lines), 3)
    shipping.update({"PostageCostExTax": postage_ex, "ItemWeight": weight, "TotalWeight": weight})
    totals.update(
        {
            "Subtotal": subtotal,
            "PostageCost": postage,
            "PostageCostExTax": postage_ex,
            "Tax": round(sum(float(line["Tax"]) for line in lines) + postage - postage_ex, 2),
            "TotalCharge": round(subtotal + postage, 2),
        }
    )
    order.general["NumItems"] = len(lines)


def recalculate(order: Order) -> None:
    """Public alias used by the seeder."""
    for line in order.doc["Items"]:
        _price_line(line)
    _recalculate(order)
