"""``lw3pl ledger``: list and release quarantined orders, list and settle held stock changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger import HoldStatus, Ledger, NewOrder, State
from lw3pl import cli


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """A ledger with one quarantined order and one held stock change, named by LEDGER_URL."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("LEDGER_URL", url)
    ledger = Ledger(url, migrate=True)
    ledger.register([NewOrder(reference="order-1", num_order_id="1001", payload_hash="h")])
    ledger.quarantine(
        "order-1", "shipping service 'Express' is not mapped; add it to SHIPPING_SERVICE_MAP",
        expected_from=[State.PENDING], owner=None,
    )  # fmt: skip
    ledger.hold_stock_change("SKU-1", 10, 900, datetime.now(UTC), "jump of 890 units")
    return ledger


def test_quarantined_lists_reason(book: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    """The list names the order, its number, where it came from and the reason."""
    assert cli.main(["ledger", "quarantined"]) == 0
    out = capsys.readouterr().out
    assert "order-1  #1001  from pending: shipping service 'Express' is not mapped" in out
    assert "1 quarantined order(s)" in out


def test_release_returns_the_order_to_its_state(book: Ledger) -> None:
    """Release puts the order back in the state it was quarantined from."""
    assert cli.main(["ledger", "release", "order-1"]) == 0
    record = book.get("order-1")
    assert record is not None and record.state is State.PENDING


def test_release_of_an_unknown_order_fails_clearly(book: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    """Releasing an order the ledger does not know exits 1 with a one-line message."""
    assert cli.main(["ledger", "release", "nope"]) == 1
    assert "nope" in capsys.readouterr().err


def test_approve_stock_settles_the_hold(book: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    """A held stock change can be listed and approved by id."""
    [hold] = book.held_stock_changes()
    assert cli.main(["ledger", "holds"]) == 0
    assert f"{hold.id}  SKU-1: 10 -> 900" in capsys.readouterr().out
    assert cli.main(["ledger", "approve-stock", str(hold.id), "--note", "stock count done"]) == 0
    assert book.held_stock_changes(HoldStatus.APPROVED)[0].id == hold.id
