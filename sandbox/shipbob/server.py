"""A local ShipBob API (the version of ``spec.json``, 2026-01) on the loopback server, backed by the
shared warehouse simulation.

Built from ``sandbox/shipbob/spec.json`` alone (no code shared with ``clients/``): it routes the paths
and verbs of the spec, checks the bearer token and the ``shipbob_channel_id`` header, validates query
parameters and request bodies strictly (400 with a model-state body on unknown or mistyped fields), and
applies ShipBob's business rules: 422 on a duplicate ``reference_id``, an unknown product or a SKU that
exists, orders paged with ``Page``/``Limit`` (``Page-Number``/``Total-Pages``/``Next-Page`` headers),
products and inventory levels paged by cursor (``next`` links), a 150 requests/minute sliding window per
token answered with 429 and ``x-retry-after``. A retired version (``/1.0/...``, ``/2.0/...``) is answered
410 with a body that says so; any other unknown version is a 404, like any unknown path.

Example:
    >>> with ShipBobSandbox(seed=1) as sandbox:  # doctest: +SKIP
    ...     sandbox.inject("accept_then_drop", method="POST", path=f"/{VERSION}/order")
    ...     httpx.post(f"{sandbox.api_url}/order", headers=sandbox.auth_headers(), json=...)

Time: business times come from the warehouse's clock; the rate-limit window runs on ``monotonic`` and
is shortened by ``time_scale`` (10 = ten times faster), with ``x-retry-after`` in unscaled seconds.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import urlencode

from sandbox._http import DropConnection, HttpRequest, HttpResponse, LoopbackServer, json_response
from sandbox.shipbob import changes
from sandbox.shipbob.admin import ADMIN_PREFIX, warehouse_admin
from sandbox.shipbob.schema import Operation, SpecValidator, load_spec
from sandbox.shipbob.views import (
    inventory_level_view,
    order_view,
    product_view,
    variant_id,
)
from sandbox.warehouse import (
    CancelOutcome,
    DuplicateReference,
    OrderStatus,
    Product,
    UnknownSku,
    Warehouse,
    WarehouseOrder,
)

__all__ = [
    "FAULT_KINDS",
    "ORDERS_PATH",
    "RETIRED_VERSIONS",
    "VERSION",
    "Fault",
    "RequestRecord",
    "ShipBobSandbox",
]

FAULT_KINDS = (
    "410",
    "422",
    "429",
    "500",
    "502",
    "503",
    "504",
    "slow",
    "drop",
    "accept_then_drop",
    "html",
    "truncated",
)
CORRUPTIONS = ("quantity_string", "negative_quantity", "missing_tracking", "not_an_object")
PER_MINUTE = 150
VERSION: str = load_spec()["source"]["version"]
ORDERS_PATH = f"/{VERSION}/order"  # what tests count and inject faults on
RETIRED_VERSIONS = ("1.0", "2.0")
VERSIONING_PAGE = "https://developer.shipbob.com/versioning"
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 50
REQUEST_LOG_SIZE = 100_000  # the newest requests, for tests and benchmarks
_COUNTRY_CODES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW"
)
_ISO_COUNTRIES = frozenset(_COUNTRY_CODES.split())


@dataclass
class Fault:
    """A planned misbehaviour for the next ``times`` matching requests."""

    kind: str
    method: str | None = None
    path: str | None = None  # a prefix of the request path
    times: int = 1
    delay_seconds: float = 1.0
    retry_after: int = 5

    def matches(self, request: HttpRequest) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path is None or request.path.lower().startswith(self.path.lower())
        )


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int  # 0: the connection was dropped
    fault: str = ""
    at: float = field(default_factory=time.time)  # when it was answered (bench/cycle.py's rates per minute)


class _SlidingWindow:
    """Requests per token in the last ``window`` seconds of ``monotonic`` time."""

    def __init__(self, limit: int, window: float, monotonic: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self.monotonic = monotonic
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, token: str) -> tuple[bool, float, int]:
        """(allowed, seconds until a slot frees, calls remaining)."""
        with self._lock:
            now = self.monotonic()
            seen = self._seen.setdefault(token, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False, seen[0] + self.window - now, 0
            seen.append(now)
            return True, 0.0, self.limit - len(seen)


class _Reply(Exception):
    """Stop handling and answer with ``response``."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _model_state(errors: dict[str, list[str]], status: int = 400) -> _Reply:
    return _Reply(json_response(errors, status=status))


class ShipBobSandbox:
    """A ShipBob API on 127.0.0.1 with a seeded warehouse behind it.

    Args:
        warehouse: the simulation to drive; a seeded one with 20 SKUs when None.
        seed: seeds the default warehouse and the generated credentials.
        time_scale: how much faster than real time the rate-limit window runs.
        rate_limits: enforce 150 requests/minute per token.
        monotonic: the clock of the rate-limit window (tests inject one).
        auto_advance: move the warehouse to its clock's now before each request.
    """

    # Every request any sandbox in this process receives, when a test suite installs a list here (see
    # tests/shipbob/conformance.py, which checks the adapter's requests against the spec after the run).
    journal: ClassVar[list[HttpRequest] | None] = None

    def __init__(
        self,
        warehouse: Warehouse | None = None,
        seed: int = 0,
        time_scale: float = 1.0,
        rate_limits: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        auto_advance: bool = True,
    ) -> None:
        if warehouse is None:
            warehouse = Warehouse(seed=seed)
            warehouse.seed_catalogue(20)
        self.warehouse = warehouse
        self.token = f"sbpat_{secrets.token_hex(16)}"
        self.channel_id = 100000 + seed % 1000
        self.time_scale = time_scale
        self.rate_limits = rate_limits
        self.auto_advance = auto_advance
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)
        self._validator = SpecValidator()
        self._limiter = _SlidingWindow(PER_MINUTE, 60.0 / time_scale, monotonic)
        self._faults: list[Fault] = []
        self._corruptions: dict[str, str] = {}
        self._product_created: dict[str, datetime] = {}
        self._product_updated: dict[str, datetime] = {}
        self._uploaded: set[int] = set()  # shipment ids marked with batchUpdateTrackingUpload
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle)
        self._routes: dict[tuple[str, str], Callable[[HttpRequest, dict[str, str], Any], HttpResponse]] = {
            ("GET", "/order"): self._list_orders,
            ("POST", "/order"): self._create_order,
            ("GET", "/order/{orderId}"): self._get_order,
            ("POST", "/order/{orderId}:cancel"): self._cancel_order,
            ("POST", "/shipment:batchUpdateTrackingUpload"): self._mark_tracking_uploaded,
            ("PUT", "/shipment/{shipmentId}:updateAddress"): self._on_warehouse(changes.update_address),
            ("GET", "/shipment/{shipmentId}:getLineItems"): self._on_warehouse(changes.get_line_items),
            ("POST", "/shipment/{shipmentId}:updateLineItems"): self._on_warehouse(changes.update_line_items),
            ("GET", "/product"): self._list_products,
            ("POST", "/product"): self._create_product,
            ("PATCH", "/product/{productId}"): self._update_product,
            ("GET", "/inventory-level"): self._list_inventory_levels,
        }

    def _on_warehouse(
        self, handler: Callable[[Warehouse, dict[str, str], Any], HttpResponse]
    ) -> Callable[[HttpRequest, dict[str, str], Any], HttpResponse]:
        return lambda request, params, body: handler(self.warehouse, params, body)

    # --- lifecycle and admin hooks ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The host (what ``SHIPBOB_API_URL`` holds); the API lives under ``/{VERSION}``."""
        return self._server.url

    @property
    def api_url(self) -> str:
        return f"{self._server.url}/{VERSION}"

    def start(self) -> ShipBobSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> ShipBobSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def auth_headers(self) -> dict[str, str]:
        """The headers a correctly configured client sends."""
        return {"Authorization": f"Bearer {self.token}", "shipbob_channel_id": str(self.channel_id)}

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        delay_seconds: float = 1.0,
        retry_after: int = 5,
    ) -> None:
        """Misbehave on the next ``times`` requests matching ``method`` and the ``path`` prefix.

        Kinds: 429 (with ``x-retry-after``), 410/422 (a refusal with ShipBob's error body: a storm of them
        when ``times`` is large), 500/502/503/504, slow (reply after ``delay_seconds``), drop
        (close without reading on), accept_then_drop (do the work, then close without a reply), html
        (a 200 HTML page instead of JSON), truncated (the JSON reply cut in half).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append(Fault(kind, method, path, times, delay_seconds, retry_after))

    def revoke_token(self) -> str:
        """The seller revokes the personal access token: every request with it gets 401 from now on.

        Returns the revoked token; assigning it to ``token`` again stands for the seller issuing a new one.
        """
        with self._lock:
            revoked, self.token = self.token, f"sbpat_{secrets.token_hex(16)}"
        return revoked

    def corrupt_order(self, reference: str, kind: str) -> None:
        """Serve the order with this reference malformed from now on (quarantine tests)."""
        if kind not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {kind!r}; one of {CORRUPTIONS}")
        with self._lock:
            self._corruptions[reference] = kind

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._corruptions.clear()

    def count(self, status: int | None = None, method: str | None = None, path: str | None = None) -> int:
        """How many requests were answered with ``status`` (None: any), by method and exact path."""
        with self._lock:
            return sum(
                1
                for record in self.requests
                if (status is None or record.status == status)
                and (method is None or record.method == method)
                and (path is None or record.path == path)
            )

    # --- request pipeline ------------------------------------------------------------------------

    def _handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return warehouse_admin(self.warehouse, request)  # the warehouse's staff, not the API
        if ShipBobSandbox.journal is not None:
            ShipBobSandbox.journal.append(request)
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "drop":
            self._log(request, 0, "drop")
            raise DropConnection
        try:
            response = self._fault_reply(fault) or self._serve(request)
        except _Reply as reply:
            response = reply.response
        if fault is not None and fault.kind == "accept_then_drop":
            self._log(request, 0, fault.kind)
            raise DropConnection
        response = self._distort(response, fault)
        self._log(request, response.status, fault.kind if fault else "")
        return response

    def _serve(self, request: HttpRequest) -> HttpResponse:
        self._authenticate(request)
        remaining = self._rate_limit()
        _refuse_retired_version(request.path)
        operation, path_params, known = self._validator.find(request.method, request.path)
        if operation is None:
            raise _Reply(HttpResponse(status=405 if known else 404))
        self._check_channel(operation, request)
        self._check_parameters(operation, request, path_params)
        body = self._parse_body(operation, request)
        if self.auto_advance:
            self.warehouse.advance()
        route = self._routes[(operation.verb, operation.template.removeprefix(f"/{VERSION}"))]
        response = route(request, path_params, body)
        if remaining is not None:
            response.headers["x-remaining-calls"] = str(remaining)
        return response

    def _take_fault(self, request: HttpRequest) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault | None) -> HttpResponse | None:
        if fault is None:
            return None
        if fault.kind == "429":
            message = f"Rate limit is exceeded. Try again in {fault.retry_after} seconds."
            body = {"statusCode": 429, "message": message}
            return json_response(body, status=429, headers={"x-retry-after": str(fault.retry_after)})
        if fault.kind.isdigit():
            return json_response({"": ["An unexpected error occurred."]}, status=int(fault.kind))
        return None

    @staticmethod
    def _distort(response: HttpResponse, fault: Fault | None) -> HttpResponse:
        if fault is None:
            return response
        if fault.kind == "slow":
            response.delay_seconds = fault.delay_seconds
        elif fault.kind == "html":
            page = b"<html><head><title>Maintenance</title></head><body>Back soon</body></html>"
            return HttpResponse(status=200, body=page, headers={"Content-Type": "text/html"})
        elif fault.kind == "truncated":
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _log(self, request: HttpRequest, status: int, fault: str) -> None:
        with self._lock:
            self.requests.append(RequestRecord(request.method, request.path, status, fault))

    def _authenticate(self, request: HttpRequest) -> None:
        if request.header("Authorization") != f"Bearer {self.token}":
            raise _Reply(HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"}))

    def _rate_limit(self) -> int | None:
        if not self.rate_limits:
            return None
        allowed, wait, remaining = self._limiter.take(self.token)
        if allowed:
            return remaining
        seconds = max(1, math.ceil(wait * self.time_scale))
        body = {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}
        headers = {"x-retry-after": str(seconds), "x-remaining-calls": "0"}
        raise _Reply(json_response(body, status=429, headers=headers))

    def _check_channel(self, operation: Operation, request: HttpRequest) -> None:
        for parameter in operation.parameters("header"):
            raw = request.header(parameter["name"])
            if raw is None:
                if parameter.get("required"):
                    raise _model_state({parameter["name"]: ["The shipbob_channel_id header is required."]})
                continue
            errors = self._validator.validate_parameter(raw, parameter)
            if errors:
                raise _model_state(errors)
            if int(raw) != self.channel_id:
                raise _Reply(HttpResponse(status=403))

    def _check_parameters(
        self, operation: Operation, request: HttpRequest, path_params: dict[str, str]
    ) -> None:
        errors: dict[str, list[str]] = {}
        for parameter in operation.parameters("path"):
            errors.update(self._validator.validate_parameter(path_params[parameter["name"]], parameter))
        known = {parameter["name"].lower() for parameter in operation.parameters("query")}
        for name in request.query:
            if name.lower() not in known:
                errors[name] = [f"The query parameter '{name}' is not supported."]
        for parameter in operation.parameters("query"):
            raw = _query_value(request, parameter["name"])
            if raw is not None and raw != "":
                errors.update(self._validator.validate_parameter(raw, parameter))
        if errors:
            raise _model_state(errors)

    def _parse_body(self, operation: Operation, request: HttpRequest) -> Any:
        schema = operation.body_schema
        if schema is None:
            return None
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in ("application/json", "text/json", "application/*+json"):
            raise _Reply(HttpResponse(status=415))
        try:
            body = json.loads(request.body)
        except ValueError:
            raise _model_state({"": ["The request body is not valid JSON."]}) from None
        errors = self._validator.validate(body, schema)
        if errors:
            raise _model_state(errors)
        return body

    # --- orders ------------------------------------------------------------------------------------

    def _channel(self) -> dict[str, Any]:
        return {"id": self.channel_id, "name": "lw3pl sandbox store"}

    def _catalogue(self) -> dict[str, Product]:
        return {product.sku: product for product in self.warehouse.products()}

    def _order_json(
        self,
        order: WarehouseOrder,
        products: dict[str, Product] | None = None,
        uploaded: frozenset[int] | None = None,
    ) -> Any:
        if uploaded is None:
            with self._lock:
                uploaded = frozenset(self._uploaded)
        view = order_view(order, products or self._catalogue(), self._channel(), uploaded)
        with self._lock:
            corruption = self._corruptions.get(order.reference)
        return _corrupt(view, corruption) if corruption else view

    def _create_order(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        self._check_order_rules(body)
        lines = [self._order_line(index, product) for index, product in enumerate(body["products"])]
        metadata = {
            "recipient": body["recipient"],
            "order_number": body.get("order_number", ""),
            "purchase_date": body.get("purchase_date"),
            "type": body.get("type", "DTC"),
            "tags": body.get("tags", []),
            "financials": body.get("financials"),
        }
        address = body["recipient"]["address"]
        try:
            order = self.warehouse.create_order(
                body["reference_id"], lines, body["shipping_method"], address, metadata
            )
        except DuplicateReference as duplicate:
            existing = duplicate.existing.order_id
            message = f"Order with reference_id '{body['reference_id']}' exists (order id {existing})."
            raise _model_state({"reference_id": [message]}, 422) from None
        except UnknownSku as unknown:
            raise _model_state(
                {"products": [f"Product with reference_id '{unknown.sku}' was not found."]}, 422
            ) from None
        return json_response(self._order_json(order), status=201)

    def _check_order_rules(self, body: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        country = body["recipient"]["address"].get("country", "")
        if country.upper() not in _ISO_COUNTRIES:
            errors["recipient.address.country"] = [f"'{country}' is not a valid ISO 3166 country code."]
        if not body["recipient"]["address"].get("address1", "").strip():
            errors["recipient.address.address1"] = ["The address1 field is required."]
        for index, product in enumerate(body["products"]):
            if product["quantity"] <= 0:
                errors[f"products[{index}].quantity"] = ["Quantity must be greater than 0."]
            sku = self._product_sku(product)
            if sku is None:
                key = "id" if "id" in product else "reference_id"
                errors[f"products[{index}].{key}"] = [f"Product '{product.get(key)}' was not found."]
        if errors:
            raise _model_state(errors, 422)

    def _product_sku(self, product: dict[str, Any]) -> str | None:
        if "reference_id" in product:
            found = self.warehouse.product(product["reference_id"])
            return found.sku if found else None
        matches = [p.sku for p in self.warehouse.products() if p.product_id == product.get("id")]
        return matches[0] if matches else None

    def _order_line(self, index: int, product: dict[str, Any]) -> tuple[str, int, str]:
        sku = self._product_sku(product) or ""
        external = product.get("external_line_id")
        return sku, product["quantity"], str(external) if external is not None else ""

    def _list_orders(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        """One page by index, as ShipBob pages: the query is read once, every order is tested without a
        copy, and only the page's orders are copied and rendered."""
        with self._lock:
            uploaded = frozenset(self._uploaded)
        query = _OrderQuery.of(request)
        page, limit = _page_and_limit(request)
        total, orders = self.warehouse.page_of_orders(
            lambda order: query.matches(order, uploaded),
            start=(page - 1) * limit,
            stop=page * limit,
            newest_first=(_query_value(request, "SortOrder") or "Newest") == "Newest",
        )
        catalogue = self._catalogue()
        views = [self._order_json(order, catalogue, uploaded) for order in orders]
        return json_response(views, headers=_page_headers(request, page, limit, total))

    def _find_order(self, raw_id: str) -> WarehouseOrder:
        order = self.warehouse.get(int(raw_id))
        if order is None:
            raise _Reply(HttpResponse(status=404))
        return order

    def _get_order(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        return json_response(self._order_json(self._find_order(params["orderId"])))

    def _cancel_order(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        """Success, or Failure with each shipment's reason; an order cancelled before is a 422."""
        order = self._find_order(params["orderId"])
        if order.status is OrderStatus.CANCELLED:
            raise _model_state({"orderId": [f"Order {order.order_id} is already cancelled."]}, 422)
        outcome = self.warehouse.cancel(order.reference)
        after = self.warehouse.get(order.order_id) or order
        view = self._order_json(after)
        success = outcome is CancelOutcome.CANCELLED
        reason = None if success else "Shipment has already been fulfilled and cannot be cancelled."
        results = [
            {"action": "Cancel", "is_success": success, "reason": reason, "shipment_id": shipment["id"]}
            for shipment in (view.get("shipments") or [] if isinstance(view, dict) else [])
        ]
        status = "Success" if success else "Failure"
        reply = {"order_id": order.order_id, "order": view, "status": status}
        return json_response({**reply, "canceled_shipment_results": results})

    def _mark_tracking_uploaded(
        self, request: HttpRequest, params: dict[str, str], body: Any
    ) -> HttpResponse:
        """Flag each shipment; an id that is not a shipped parcel of this account fails on its own."""
        shipment_ids = body.get("shipment_ids") or []
        shipped = self.warehouse.shipped_packages(shipment_ids)
        results = []
        for shipment_id in shipment_ids:
            if shipment_id not in shipped:
                error = {"code": "NotFound", "message": f"Shipment {shipment_id} was not found."}
                results.append({"shipmentId": shipment_id, "isSuccess": False, "error": error})
                continue
            with self._lock:
                if body.get("is_tracking_uploaded", False):
                    self._uploaded.add(shipment_id)
                else:
                    self._uploaded.discard(shipment_id)
            results.append({"shipmentId": shipment_id, "isSuccess": True})
        done = sum(1 for result in results if result["isSuccess"])
        summary = {"total": len(results), "successful": done, "failed": len(results) - done}
        return json_response({"results": results, "summary": summary})

    # --- products and inventory ------------------------------------------------------------------

    def _product_json(self, sku: str) -> dict[str, Any]:
        product = self.warehouse.product(sku)
        assert product is not None  # callers pass known SKUs
        created = self._product_created.setdefault(sku, self.warehouse.clock())
        return product_view(product, created, self._product_updated.get(sku, created))

    def _list_products(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        """SKU and Search are partial, case-insensitive matches, as ShipBob's are."""
        sku = (_query_value(request, "SKU") or "").lower()
        search = (_query_value(request, "Search") or "").lower()
        products = [
            p
            for p in self.warehouse.products()
            if (not sku or sku in p.sku.lower())
            and (not search or search in p.sku.lower() or search in p.title.lower())
        ]
        page, links = _cursor_page(products, request)
        return json_response({**links, "items": [self._product_json(p.sku) for p in page]})

    def _create_product(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        variants = body.get("variants") or []
        errors: dict[str, list[str]] = {}
        if not (body.get("name") or "").strip():
            errors["name"] = ["The name field is required."]
        if len(variants) != 1 or not (variants[0].get("sku") or "").strip():
            errors["variants"] = ["The sandbox takes exactly one variant, with a sku."]
        elif self.warehouse.product(variants[0]["sku"]) is not None:
            errors["variants[0].sku"] = [f"A variant with sku '{variants[0]['sku']}' already exists."]
        if errors:
            raise _model_state(errors, 422)
        variant = variants[0]
        barcode = next((b.get("value") for b in variant.get("barcodes") or [] if b.get("value")), "")
        title = variant.get("name") or body["name"]
        self.warehouse.upsert_product(variant["sku"], title=title, barcode=barcode)
        self._product_created.setdefault(variant["sku"], self.warehouse.clock())
        return json_response(self._product_json(variant["sku"]), status=201)

    def _product_by_id(self, raw_id: str) -> Product:
        for product in self.warehouse.products():
            if product.product_id == int(raw_id):
                return product
        raise _Reply(json_response({"type": None, "status": 404, "title": "Not Found"}, status=404))

    def _update_product(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        product = self._product_by_id(params["productId"])
        title, barcode = body.get("name") or product.title, product.barcode
        for variant in body.get("variants") or []:
            if variant.get("id") != variant_id(product):
                raise _model_state({"variants": [f"Variant {variant.get('id')} is not on this product."]})
            title = variant.get("name") or title
            values = [b.get("value") for b in variant.get("barcodes") or [] if b.get("value")]
            barcode = values[0] if values else barcode
        self.warehouse.upsert_product(product.sku, title=title, barcode=barcode)
        self._product_updated[product.sku] = self.warehouse.clock()
        return json_response(self._product_json(product.sku))

    def _list_inventory_levels(self, request: HttpRequest, params: dict[str, str], body: Any) -> HttpResponse:
        ids = {int(value) for value in _split(_query_value(request, "InventoryIds")) or []}
        products = [p for p in self.warehouse.products() if not ids or p.product_id in ids]
        page, links = _cursor_page(products, request)
        items = [inventory_level_view(p, self.warehouse.stock(p.sku)) for p in page]
        return json_response({**links, "items": items})


# --- helpers -----------------------------------------------------------------------------------------


def _refuse_retired_version(path: str) -> None:
    version = path.strip("/").split("/", 1)[0]
    if version in RETIRED_VERSIONS:
        detail = (
            f"API version {version} is retired and no longer accepts requests. "
            f"Use a supported version such as {VERSION}: see {VERSIONING_PAGE}."
        )
        body = {"type": VERSIONING_PAGE, "title": "API version retired", "status": 410, "detail": detail}
        raise _Reply(json_response(body, status=410))


def _query_value(request: HttpRequest, name: str) -> str | None:
    """A query parameter by case-insensitive name; repeated values are joined with commas."""
    values = [value for key, found in request.query.items() if key.lower() == name.lower() for value in found]
    return ",".join(values) if values else None


def _split(raw: str | None) -> set[str] | None:
    if raw is None or raw == "":
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # ShipBob reads zone-less times as UTC
    return moment


@dataclass(frozen=True)
class _OrderQuery:
    """The filters of a ``GET /order``, read from the request once (a page tests every order against them)."""

    ids: set[str] | None
    references: set[str] | None
    created: tuple[datetime | None, datetime | None]  # StartDate, EndDate
    updated: tuple[datetime | None, datetime | None]  # LastUpdateStartDate, LastUpdateEndDate
    tracking_updated: tuple[datetime | None, datetime | None]
    has_tracking: bool | None
    tracking_uploaded: bool | None

    @classmethod
    def of(cls, request: HttpRequest) -> _OrderQuery:
        def bounds(start: str, end: str) -> tuple[datetime | None, datetime | None]:
            return _parse_time(_query_value(request, start)), _parse_time(_query_value(request, end))

        def flag(name: str) -> bool | None:
            raw = _query_value(request, name)
            return raw.lower() == "true" if raw else None

        return cls(
            ids=_split(_query_value(request, "IDs")),
            references=_split(_query_value(request, "ReferenceIds")),
            created=bounds("StartDate", "EndDate"),
            updated=bounds("LastUpdateStartDate", "LastUpdateEndDate"),
            tracking_updated=bounds("LastTrackingUpdateStartDate", "LastTrackingUpdateEndDate"),
            has_tracking=flag("HasTracking"),
            tracking_uploaded=flag("IsTrackingUploaded"),
        )

    def matches(self, order: WarehouseOrder, uploaded: frozenset[int]) -> bool:
        if self.ids is not None and str(order.order_id) not in self.ids:
            return False
        if self.references is not None and order.reference not in self.references:
            return False
        if not (_within(order.created_at, self.created) and _within(order.updated_at, self.updated)):
            return False
        return self._tracking_matches(order, uploaded)

    def _tracking_matches(self, order: WarehouseOrder, uploaded: frozenset[int]) -> bool:
        """HasTracking: a parcel left; IsTrackingUploaded: every parcel was acknowledged; the tracking dates
        bound the newest parcel's tracking time (orders without tracking never match those)."""
        parcels = [package.package_id for shipment in order.shipments for package in shipment.packages]
        if self.has_tracking is not None and self.has_tracking != bool(parcels):
            return False
        is_uploaded = bool(parcels) and all(parcel in uploaded for parcel in parcels)
        if self.tracking_uploaded is not None and self.tracking_uploaded != is_uploaded:
            return False
        if self.tracking_updated == (None, None):
            return True
        if not order.shipments:
            return False
        return _within(max(shipment.shipped_at for shipment in order.shipments), self.tracking_updated)


def _within(moment: datetime, bounds: tuple[datetime | None, datetime | None]) -> bool:
    start, end = bounds
    return (start is None or moment >= start) and (end is None or moment <= end)


def _cursor_page(items: list[Any], request: HttpRequest) -> tuple[list[Any], dict[str, str | None]]:
    """One page of a cursor-paged list and its links (``next`` is None on the last page)."""
    size = min(MAX_PAGE_SIZE, max(1, int(_query_value(request, "PageSize") or DEFAULT_PAGE_SIZE)))
    raw = _query_value(request, "Cursor") or "0"
    if not raw.isdigit():
        raise _model_state({"Cursor": ["The cursor is not valid."]})
    start = int(raw)
    query = {k: ",".join(v) for k, v in request.query.items() if k.lower() != "cursor"}

    def link(offset: int) -> str:
        return f"{request.path}?{urlencode({**query, 'Cursor': offset})}"

    links: dict[str, str | None] = {
        "first": link(0),
        "last": link(max(0, (len(items) - 1) // size * size)),
        "next": link(start + size) if start + size < len(items) else None,
        "prev": link(max(0, start - size)) if start > 0 else None,
    }
    return items[start : start + size], links


def _page_and_limit(request: HttpRequest) -> tuple[int, int]:
    page = max(1, int(_query_value(request, "Page") or 1))
    limit = min(MAX_PAGE_SIZE, max(1, int(_query_value(request, "Limit") or DEFAULT_PAGE_SIZE)))
    return page, limit


def _page_headers(request: HttpRequest, page: int, limit: int, total: int) -> dict[str, str]:
    total_pages = max(1, math.ceil(total / limit))
    headers = {
        "Page-Number": str(page),
        "Page-Size": str(limit),
        "Total-Count": str(total),
        "Total-Pages": str(total_pages),
    }
    if page < total_pages:
        query = {key: ",".join(values) for key, values in request.query.items() if key.lower() != "page"}
        headers["Next-Page"] = f"{request.path}?{urlencode({**query, 'Page': page + 1})}"
    return headers


def _corrupt(view: dict[str, Any], kind: str) -> Any:
    """One order's JSON broken the way partners break it."""
    if kind == "not_an_object":
        return f"<order {view['id']}>"
    for shipment in view.get("shipments", []):
        if shipment.get("status") != "Completed":
            continue
        if kind == "missing_tracking":
            shipment["tracking"].pop("tracking_number", None)
        for product in shipment.get("products", []):
            for item in product.get("inventory_items", []):
                if kind == "quantity_string":
                    item["quantity"] = str(item["quantity"])
                elif kind == "negative_quantity":
                    item["quantity"] = -item["quantity"]
    return view
