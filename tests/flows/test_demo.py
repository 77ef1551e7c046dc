"""``lw3pl demo`` (the README's first command) ends with every promise checked and exit code 0."""

from __future__ import annotations

import io

from lw3pl.demo import run_demo


def test_demo_runs_the_whole_cycle_and_every_check_passes() -> None:
    """Orders exported once and processed with tracking, stock equals the warehouse, reruns do nothing."""
    out = io.StringIO()
    assert run_demo(out, seed=3) == 0, out.getvalue()
    text = out.getvalue()
    for check in (
        "every paid order exported exactly once",
        "shipped orders processed with tracking",
        "stock equals the warehouse's",
        "address changes after export answered",
        "running every flow again changes nothing",
    ):
        assert f"[ok] {check}" in text
    assert "FAILED" not in text
    assert "address change sent to the warehouse" in text
    assert "change not applied (too late)" in text
    assert "@" not in text, "no customer e-mail addresses in the demo output"
