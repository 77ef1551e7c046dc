"""Setup of the fulfilment centre: the 3PL's location in Linnworks and the export identifier."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from prefect import task
from prefect.context import TaskRunContext
from prefect.utilities.hashing import hash_objects
from pydantic import BaseModel

from clients.errors import OutcomeUnknownError, StopError
from clients.linnworks import Identifier, LinnworksClient, StockLocation
from tasks.context import Account, runtime_for
from tasks.retrying import TASK_RETRY_OPTIONS

__all__ = [
    "SetupStep",
    "ensure_export_identifier",
    "ensure_fulfilment_centre",
    "find_fulfilment_centre",
    "find_identifier",
    "find_location",
]


class SetupStep(BaseModel):
    """What one setup step did: created, updated, renamed or unchanged."""

    what: str
    action: str
    id: str


def find_location(locations: list[StockLocation], name: str) -> StockLocation | None:
    """The location called ``name`` (any case, surrounding spaces ignored), if Linnworks has it."""
    wanted = name.strip().lower()
    return next((loc for loc in locations if loc.location_name.strip().lower() == wanted), None)


def _needs_update(location: StockLocation) -> bool:
    return not (location.is_fulfillment_center and location.fulfilment_center_deduct_stock_when_processed)


@task(name="ensure-fulfilment-centre", **TASK_RETRY_OPTIONS)
def ensure_fulfilment_centre(account: Account) -> SetupStep:
    """Create or update the location FULFILMENT_CENTRE_NAME as a fulfilment centre; idempotent.

    FulfilmentCenterDeductStockWhenProcessed is switched on because the stock rule relies on it: Linnworks
    keeps counting shipped units until the order is processed, and lw3pl adds them back until then.
    """
    runtime = runtime_for(account)
    name = runtime.settings.fulfilment_centre_name
    linnworks = runtime.linnworks
    location = find_location(linnworks.get_stock_locations(), name)
    if location is None:
        _add_location(linnworks, name)
        location = find_location(linnworks.get_stock_locations(), name)
        if location is None:
            raise StopError(f"Linnworks accepted AddLocation for {name!r} but does not list it")
        return SetupStep(what="location", action="created", id=str(location.stock_location_id))
    if _needs_update(location):
        flags = {"is_fulfillment_center": True, "fulfilment_center_deduct_stock_when_processed": True}
        linnworks.update_location(location.model_copy(update=flags))
        return SetupStep(what="location", action="updated", id=str(location.stock_location_id))
    return SetupStep(what="location", action="unchanged", id=str(location.stock_location_id))


def _add_location(linnworks: LinnworksClient, name: str) -> None:
    new = StockLocation(
        stock_location_id=uuid4(),
        location_name=name,
        is_fulfillment_center=True,
        fulfilment_center_deduct_stock_when_processed=True,
    )
    # A lost reply is fine: the re-read by name right after tells whether the location was created.
    with contextlib.suppress(OutcomeUnknownError):
        linnworks.add_location(new)


@task(name="ensure-export-identifier", **TASK_RETRY_OPTIONS)
def ensure_export_identifier(account: Account) -> SetupStep:
    """Create the EXPORT_IDENTIFIER_TAG identifier if Linnworks does not have it; idempotent.

    Its Name is its Tag: the export filter sends the Tag, public code filters by the display Name, and which
    one Linnworks matches is not documented, so with both equal either reading excludes tagged orders. An
    identifier made by an older version (Name "Sent to 3PL (TAG)") is renamed.
    """
    runtime = runtime_for(account)
    tag = runtime.settings.export_identifier_tag
    existing = find_identifier(runtime.linnworks.get_identifiers(), tag)
    if existing is None:
        created = runtime.linnworks.save_identifier(Identifier(tag=tag, name=tag, is_custom=True))
        return SetupStep(what="identifier", action="created", id=str(created.identifier_id))
    if existing.name != existing.tag:
        runtime.linnworks.save_identifier(existing.model_copy(update={"name": existing.tag}))
        return SetupStep(what="identifier", action="renamed", id=str(existing.identifier_id))
    return SetupStep(what="identifier", action="unchanged", id=str(existing.identifier_id))


def find_identifier(identifiers: list[Identifier], tag: str) -> Identifier | None:
    """The identifier whose Tag is ``tag`` (any case), if Linnworks has it."""
    return next((i for i in identifiers if i.tag.lower() == tag.lower()), None)


def _location_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """The account, the location name and the Linnworks installation the account now points at: a block
    changed to another Linnworks account (or a sandbox started again under the same account name) never
    gets the location id cached for the one before. The token only enters a hash."""
    account: Account = parameters["account"]
    settings = runtime_for(account).settings
    token = settings.linnworks_installation_token.get_secret_value()
    key = hash_objects(account, parameters["name"], settings.linnworks_auth_url, token)
    return f"find-fulfilment-centre-{key}"


@task(
    name="find-fulfilment-centre",
    cache_key_fn=_location_cache_key,
    cache_expiration=timedelta(minutes=10),
    **TASK_RETRY_OPTIONS,
)
def find_fulfilment_centre(account: Account, name: str) -> UUID:
    """The id of the fulfilment-centre location: a pure read, cached for ten minutes per account, name and
    Linnworks installation; the setup flow refreshes the entry (a location made again)."""
    location = find_location(runtime_for(account).linnworks.get_stock_locations(), name)
    if location is None or not location.is_fulfillment_center:
        raise StopError(
            f"no fulfilment-centre location named {name!r} in Linnworks: run the "
            "setup-fulfilment-centre flow first, or fix FULFILMENT_CENTRE_NAME"
        )
    return location.stock_location_id
