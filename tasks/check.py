"""``lw3pl check``: what is ready for the first export and what is not, read without writing anything.

Each check takes what it looks at as arguments (settings, the Linnworks client, the 3PL adapter, the ledger's
URL); the CLI and the ``check-configuration`` flow build those and print or publish the report. The report
is ready (exit 0) only when an export run would send every eligible order: a FAIL names what would stop or
quarantine orders, a warn something to know that does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from clients.errors import Lw3plError
from clients.linnworks import LinnworksClient, OrderDetails, StockLocation
from clients.threepl import ThreePLAdapter
from lw3pl.core.settings import Settings
from tasks.check_rows import CheckReport, CheckRow, CheckStatus
from tasks.countries import country_code
from tasks.export import list_open_candidates
from tasks.ledger_status import LedgerStatus
from tasks.mapping import MappingError, mapped_service, not_exportable_reason, to_fulfilment_order
from tasks.setup import find_identifier, find_location

__all__ = [
    "COUNTRIES_ITEM",
    "IDENTIFIER_ITEM",
    "LOCATION_ITEM",
    "SERVICES_ITEM",
    "CheckReport",
    "CheckRow",
    "CheckStatus",
    "Unavailable",
    "run_checks",
]

SETUP_FIX = "run the setup-fulfilment-centre flow (lw3pl run setup-fulfilment-centre)"
NOT_CHECKED = "not checked: needs a Linnworks session"
_PROBE_REFERENCE = "lw3pl-check-probe"


@dataclass(frozen=True)
class Unavailable:
    """Why a client could not be built from the settings (a missing or invalid setting)."""

    linnworks: str = ""
    threepl: str = ""


@dataclass
class _Found:
    """What the Linnworks part learned, for the rows that depend on it."""

    location: StockLocation | None = None
    rows: list[CheckRow] = field(default_factory=list)


def run_checks(
    settings: Settings,
    linnworks: LinnworksClient | None,
    threepl: ThreePLAdapter | None,
    ledger: LedgerStatus,
    unavailable: Unavailable = Unavailable(),
) -> CheckReport:
    """Check everything an export needs; reads only (no location, identifier, order or ledger row written).

    Args:
        settings: the settings an export would run with.
        linnworks: the client built from them, or None when it could not be (``unavailable.linnworks``).
        threepl: the 3PL adapter, or None when it could not be built (``unavailable.threepl``).
        ledger: the ledger's reachability and schema revision.
        unavailable: why a client is None.
    """
    rows = _linnworks_rows(settings, linnworks, unavailable.linnworks)
    rows.append(_threepl_row(settings, threepl, unavailable.threepl))
    rows.append(ledger.row())
    return CheckReport(rows=rows)


# --- Linnworks ------------------------------------------------------------------------------------------


def _linnworks_rows(settings: Settings, linnworks: LinnworksClient | None, why: str) -> list[CheckRow]:
    item = "Linnworks credentials and session"
    if linnworks is None:
        return [CheckRow(item=item, status=CheckStatus.FAIL, detail=why, fix=_LINNWORKS_FIX), *_unchecked()]
    try:
        locations = linnworks.get_stock_locations()
    except Lw3plError as error:
        return [CheckRow(item=item, status=CheckStatus.FAIL, detail=str(error), fix=_LINNWORKS_FIX),
                *_unchecked()]  # fmt: skip
    found = _Found(rows=[CheckRow(item=item, status=CheckStatus.OK, detail="a session was opened")])
    _location_rows(found, locations, settings.fulfilment_centre_name)
    _identifier_row(found, linnworks, settings.export_identifier_tag)
    found.rows += _order_rows(settings, linnworks, found.location)
    return found.rows


_LINNWORKS_FIX = (
    "set LINNWORKS_APPLICATION_ID, LINNWORKS_APPLICATION_SECRET, LINNWORKS_INSTALLATION_TOKEN (and "
    "LINNWORKS_AUTH_URL outside the default region)"
)
LOCATION_ITEM = "fulfilment-centre location"
IDENTIFIER_ITEM = "export identifier"
SERVICES_ITEM = "shipping services of open orders"
COUNTRIES_ITEM = "delivery countries of open orders"
_DEPENDENT_ITEMS = (LOCATION_ITEM, IDENTIFIER_ITEM, SERVICES_ITEM, COUNTRIES_ITEM)


def _unchecked() -> list[CheckRow]:
    return [CheckRow(item=item, status=CheckStatus.WARN, detail=NOT_CHECKED) for item in _DEPENDENT_ITEMS]


def _location_rows(found: _Found, locations: list[StockLocation], name: str) -> None:
    location = find_location(locations, name)
    item = LOCATION_ITEM
    if location is None:
        detail = f"no location named {name!r}"
        found.rows.append(CheckRow(item=item, status=CheckStatus.FAIL, detail=detail, fix=SETUP_FIX))
        return
    found.location = location
    found.rows.append(
        CheckRow(item=item, status=CheckStatus.OK, detail=f"{name!r} ({location.stock_location_id})")
    )
    flags = (
        ("IsFulfillmentCenter", location.is_fulfillment_center),
        ("FulfilmentCenterDeductStockWhenProcessed", location.fulfilment_center_deduct_stock_when_processed),
    )
    for flag, value in flags:
        status = CheckStatus.OK if value else CheckStatus.FAIL
        found.rows.append(
            CheckRow(
                item=f"location flag {flag}",
                status=status,
                detail="on" if value else "off",
                fix="" if value else SETUP_FIX,
            )
        )


def _identifier_row(found: _Found, linnworks: LinnworksClient, tag: str) -> None:
    item = IDENTIFIER_ITEM
    try:
        identifier = find_identifier(linnworks.get_identifiers(), tag)
    except Lw3plError as error:
        found.rows.append(CheckRow(item=item, status=CheckStatus.FAIL, detail=str(error)))
        return
    if identifier is None:
        detail = f"no identifier with Tag {tag!r}: exported orders could not be tagged"
        found.rows.append(CheckRow(item=item, status=CheckStatus.FAIL, detail=detail, fix=SETUP_FIX))
        return
    if identifier.name != identifier.tag:
        detail = f"Tag {tag!r}, Name {identifier.name!r}: a filter by Name would not exclude tagged orders"
        found.rows.append(
            CheckRow(item=item, status=CheckStatus.WARN, detail=detail, fix=SETUP_FIX + " (renames it)")
        )
        return
    found.rows.append(CheckRow(item=item, status=CheckStatus.OK, detail=f"Tag and Name {tag!r}"))


# --- open orders ----------------------------------------------------------------------------------------


def _order_rows(
    settings: Settings, linnworks: LinnworksClient, location: StockLocation | None
) -> list[CheckRow]:
    items = (SERVICES_ITEM, COUNTRIES_ITEM)
    if location is None:
        detail = "not checked: needs the fulfilment-centre location"
        return [CheckRow(item=item, status=CheckStatus.WARN, detail=detail) for item in items]
    try:
        eligible = _eligible_orders(linnworks, location.stock_location_id, settings.export_identifier_tag)
    except Lw3plError as error:
        return [CheckRow(item=item, status=CheckStatus.FAIL, detail=str(error)) for item in items]
    rows = [_service_row(eligible, settings), _country_row(eligible, settings)]
    other = _other_problems(eligible, settings)
    if other:
        rows.append(
            _counted_row(
                "other order data", other, "orders that would be quarantined", "fix the orders in Linnworks"
            )
        )
    return rows


def _eligible_orders(linnworks: LinnworksClient, location_id: UUID, tag: str) -> list[OrderDetails]:
    ids = list_open_candidates(linnworks, location_id, tag)
    orders = linnworks.get_orders_by_id_batched(ids)
    return [order for order in orders if not_exportable_reason(order, location_id, tag) is None]


def _service_name(order: OrderDetails) -> str:
    return order.shipping_info.postal_service_name or ""


def _service_row(eligible: list[OrderDetails], settings: Settings) -> CheckRow:
    unmapped = Counter(_service_name(order) for order in eligible if not _service_mapped(order, settings))
    if not unmapped:
        detail = f"{len(eligible)} eligible open orders; every shipping service is mapped"
        return CheckRow(item=SERVICES_ITEM, status=CheckStatus.OK, detail=detail)
    return _counted_row(
        SERVICES_ITEM,
        unmapped,
        "not in SHIPPING_SERVICE_MAP",
        'add them to SHIPPING_SERVICE_MAP (JSON, e.g. {"<service>": "Standard"}; "*" maps every other one)',
    )


def _country_row(eligible: list[OrderDetails], settings: Settings) -> CheckRow:
    unknown = Counter(_country(order) for order in eligible if not _country_known(order, settings))
    if not unknown:
        return CheckRow(item=COUNTRIES_ITEM, status=CheckStatus.OK, detail="every delivery country converts")
    return _counted_row(
        COUNTRIES_ITEM,
        unknown,
        "without an ISO code",
        'add them to COUNTRY_CODE_MAP (JSON, e.g. {"<name>": "GB"})',
    )


def _other_problems(eligible: Iterable[OrderDetails], settings: Settings) -> Counter[str]:
    """What else would quarantine an order whose service and country are fine, counted by reason."""
    problems: Counter[str] = Counter()
    for order in eligible:
        if not (_service_mapped(order, settings) and _country_known(order, settings)):
            continue  # already counted in the service or country row
        try:
            to_fulfilment_order(order, settings)
        except MappingError as error:
            problems[str(error)] += 1
    return problems


def _service_mapped(order: OrderDetails, settings: Settings) -> bool:
    return mapped_service(_service_name(order), settings.shipping_service_map) is not None


def _country_known(order: OrderDetails, settings: Settings) -> bool:
    return country_code(_country(order), settings.country_code_map) is not None


def _country(order: OrderDetails) -> str:
    return order.customer_info.address.country or ""


def _counted_row(item: str, counts: Mapping[str, int], what: str, fix: str) -> CheckRow:
    listed = ", ".join(f"{name!r} ({count} orders)" for name, count in sorted(counts.items()))
    return CheckRow(item=item, status=CheckStatus.FAIL, detail=f"{what}: {listed}", fix=fix)


# --- the 3PL --------------------------------------------------------------------------------------------


def _threepl_row(settings: Settings, threepl: ThreePLAdapter | None, why: str) -> CheckRow:
    item = f"3PL ({settings.threepl_adapter}): credentials, channel, API"
    if threepl is None:
        return CheckRow(
            item=item, status=CheckStatus.FAIL, detail=why, fix=_THREEPL_FIX[settings.threepl_adapter]
        )
    try:
        threepl.find_order(_PROBE_REFERENCE)  # a read the 3PL authorises like the export's calls
    except Lw3plError as error:
        return CheckRow(
            item=item, status=CheckStatus.FAIL, detail=str(error), fix=_THREEPL_FIX[settings.threepl_adapter]
        )
    return CheckRow(item=item, status=CheckStatus.OK, detail=_threepl_detail(settings))


_THREEPL_FIX = {
    "shipbob": "check SHIPBOB_API_TOKEN (scopes), SHIPBOB_CHANNEL_ID and SHIPBOB_API_URL",
    "sftp": "check SFTP_HOST, SFTP_USERNAME, SFTP_PASSWORD or SFTP_KEY_FILE, and the host key",
}


def _threepl_detail(settings: Settings) -> str:
    if settings.threepl_adapter == "shipbob":
        return f"{settings.shipbob_api_url} accepted the token on channel {settings.shipbob_channel_id}"
    return f"{settings.sftp_host}:{settings.sftp_port} accepted {settings.sftp_username!r}"
