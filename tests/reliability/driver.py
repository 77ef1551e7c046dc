"""Runs lw3pl flows in a new process for crash tests: ``python -m tests.reliability.driver export``.

Settings come from the environment (the test sets them to point at its sandboxes and ledger); the Prefect API
from ``PREFECT_API_URL``. A crash point named by ``LW3PL_CRASHPOINT`` ends the process with exit code 77.
Each finished flow prints one JSON line ``{"flow": name, "counts": {...}}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from flows.export import export_orders
from flows.reconcile import reconcile_shipments
from lw3pl.core.settings import Settings
from tasks.context import build_runtime, registered_runtime

FLOWS: dict[str, Callable[[], dict[str, int]]] = {"export": export_orders, "reconcile": reconcile_shipments}


def main(names: list[str]) -> int:
    """Run the named flows in order; 0 when all finished."""
    runtime = build_runtime(Settings())
    try:
        with registered_runtime(runtime):
            for name in names:
                counts = FLOWS[name]()
                sys.stdout.write(json.dumps({"flow": name, "counts": counts}) + "\n")
                sys.stdout.flush()
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
