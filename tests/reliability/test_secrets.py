"""RELIABILITY.md scenario 14: canary credentials never leak; hostile order text reaches the 3PL as is."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
from pydantic import SecretStr

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from ledger import State
from sandbox.shipbob import ORDERS_PATH
from tasks.context import build_runtime, registered_runtime
from tests.flows.conftest import FlowEnv
from tests.reliability.checks import check_all, check_c5
from tests.reliability.helpers import edit_order, run_artifacts

HOSTILE = {
    "FullName": "O'Brien \"Bobby\" 🚀 Robert'); DROP TABLE orders;--",
    "Address1": "שלום 12 \u202eteerts\u202c Street \\ % _ ; <b>bold</b>",
    "Address2": "Ünïcödé — ¿qué? \U0001d518\U0001d52b",  # accents, fraktur
    "Town": "Zürich",
}
HOSTILE_COUNTRY = "Atlantis'; DELETE FROM orders; -- 🙃 مرحبا"


def _flow_run_texts(states: list[Any]) -> list[str]:
    """Parameters, artifacts and every log line the Prefect API holds for these flow runs."""
    ids: list[UUID] = [s.state_details.flow_run_id for s in states if s.state_details.flow_run_id]
    texts = [json.dumps(run_artifacts(state), default=str) for state in states]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
        texts += [json.dumps(run.parameters, default=str) for run in runs]
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
        texts += [log.message for log in logs]
    return texts


def _ledger_dump(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            return [
                repr(row) for table in tables for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()


def test_canary_secrets_never_leak_and_hostile_text_arrives_byte_for_byte(
    rel_env: FlowEnv, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Canary credentials stay out of logs, errors, Prefect runs and the ledger; hostile text goes as is."""
    caplog.set_level(logging.DEBUG)
    canary_secret, canary_token = str(uuid4()), f"sbpat_{secrets.token_hex(16)}"
    rel_env.linnworks.application_secret = canary_secret
    rel_env.shipbob.token = canary_token
    settings = rel_env.settings.model_copy(
        update={
            "linnworks_application_secret": SecretStr(canary_secret),
            "shipbob_api_token": SecretStr(canary_token),
        }
    )
    hostile, bad_country = rel_env.create_orders(2)
    edit_order(rel_env.linnworks, hostile, lambda doc: doc["CustomerInfo"]["Address"].update(HOSTILE))
    edit_order(
        rel_env.linnworks,
        bad_country,
        lambda doc: doc["CustomerInfo"]["Address"].update(Country=HOSTILE_COUNTRY),
    )
    rel_env.linnworks.add_fault("revoke_session", "Orders/GetOrdersById")  # forces a re-authentication
    rel_env.linnworks.add_fault("server_error", "Orders/SetOrderShippingInfo", status=500)
    rel_env.shipbob.inject("503", method="POST", path=ORDERS_PATH)
    runtime = build_runtime(settings)
    states = []
    try:
        with registered_runtime(runtime):
            states.append(export_orders(return_state=True))  # the 503'd create stays unknown
            states.append(export_orders(return_state=True))  # ... and is found by lookup
            rel_env.advance(hours=2)
            states.append(reconcile_shipments(return_state=True))
            states.append(reconcile_shipments(return_state=True))
    finally:
        runtime.close()
    assert [s.is_completed() for s in states] == [True] * 4
    [remote] = rel_env.warehouse.list_orders()
    address = remote.address
    assert (remote.metadata["recipient"]["name"], address["address1"], address["city"]) == (
        HOSTILE["FullName"],
        HOSTILE["Address1"],
        HOSTILE["Town"],
    )
    assert HOSTILE["Address2"] in (address.get("address2") or "")
    record = rel_env.runtime.ledger.get(bad_country)
    assert record is not None and record.state is State.QUARANTINED
    assert HOSTILE_COUNTRY in (record.quarantine_reason or "")
    assert rel_env.runtime.ledger.get(hostile).state is State.PROCESSED  # type: ignore[union-attr]
    out, err = capfd.readouterr()
    prefect_texts, ledger_rows = _flow_run_texts(states), _ledger_dump(settings.resolved_ledger_url)
    assert any("quarantined" in text for text in prefect_texts) and any(hostile in row for row in ledger_rows)
    assert "retrying" in caplog.text.lower() or "503" in caplog.text  # the faults did produce error text
    captured = [caplog.text, out, err, *prefect_texts, *ledger_rows]
    captured += [repr(settings), repr(runtime), str(settings.model_dump())]
    assert check_c5(canary_secret, captured) == []
    assert check_c5(canary_token, captured) == []
    assert (
        check_all(
            rel_env.linnworks,
            rel_env.warehouse,
            rel_env.runtime.ledger,
            rel_env.location_id,
            settings.export_identifier_tag,
        )
        == []
    )
