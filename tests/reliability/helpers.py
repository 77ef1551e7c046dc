"""Helpers for the flow and reliability tests: settings overrides, sandbox edits, counters, artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.states import State as PrefectState

from clients.threepl import ThreePLAdapter
from ledger import State
from sandbox.linnworks import LinnworksSandbox
from sandbox.shipbob.server import ShipBobSandbox
from tasks.context import Runtime, registered_runtime

if TYPE_CHECKING:
    from tests.flows.conftest import FlowEnv

__all__ = [
    "edit_order",
    "linnworks_writes",
    "run_artifacts",
    "shipbob_writes",
    "with_settings",
]

_WRITE_PREFIXES = (
    "Set",
    "Assign",
    "Unassign",
    "Process",
    "Cancel",
    "Save",
    "Change",
    "Add",
    "Create",
    "Delete",
)


@contextmanager
def with_settings(
    runtime: Runtime, *, threepl: ThreePLAdapter | None = None, **overrides: Any
) -> Iterator[Runtime]:
    """The same clients and ledger with some settings (or the 3PL adapter) changed, for this block."""
    changed = replace(
        runtime, settings=runtime.settings.model_copy(update=overrides), threepl=threepl or runtime.threepl
    )
    with registered_runtime(changed):
        yield changed


def edit_order(linnworks: LinnworksSandbox, order_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change a sandbox order's document in place, as a person editing it in Linnworks would."""
    with linnworks._lock:
        change(linnworks.account.order(order_id).doc)


def linnworks_writes(linnworks: LinnworksSandbox) -> dict[str, int]:
    """Calls per Linnworks method that change something (reads left out)."""
    return {
        method: count
        for method, count in linnworks.call_counts().items()
        if method.split("/")[-1].startswith(_WRITE_PREFIXES)
    }


def shipbob_writes(shipbob: ShipBobSandbox) -> int:
    """Requests that can change something at ShipBob (POST, PUT and PATCH, any outcome)."""
    return sum(shipbob.count(method=method) for method in ("POST", "PUT", "PATCH"))


def run_artifacts(state: PrefectState[Any]) -> dict[str, Any]:
    """The artifacts a flow run published, by key, with their data decoded."""
    flow_run_id: UUID | None = state.state_details.flow_run_id
    assert flow_run_id is not None
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    found: dict[str, Any] = {}
    for artifact in artifacts:
        data = artifact.data
        if isinstance(data, str):
            with suppress(ValueError):
                data = json.loads(data)
        found[artifact.key or str(artifact.id)] = data
    return found


def order_state(env: FlowEnv, reference: str) -> State:
    """The ledger state of an order the test knows exists."""
    record = env.runtime.ledger.get(reference)
    assert record is not None
    return record.state


def calls_naming(env: FlowEnv, method: str, reference: str) -> int:
    """How many calls of a Linnworks method named the order (from the sandbox's request log)."""
    return sum(reference in json.dumps(call["params"]) for call in env.linnworks.requests(method))
