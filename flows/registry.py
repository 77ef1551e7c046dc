"""Every deployable flow by its deployment name (prefect.yaml), for the CLI, the demo and the tests.

Flows are imported on first use, so ``lw3pl --help`` does not load Prefect's flow machinery.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["FLOWS", "load_flow"]

FLOWS: dict[str, str] = {
    "setup-fulfilment-centre": "flows.setup:setup_fulfilment_centre",
    "export-orders": "flows.export:export_orders",
    "reconcile-shipments": "flows.reconcile:reconcile_shipments",
    "sync-stock": "flows.stock:sync_stock",
    "sync-catalogue": "flows.catalogue:sync_catalogue",
    "fulfilment-cycle": "flows.cycle:fulfilment_cycle",
    "check-configuration": "flows.check:check_configuration",
}


def load_flow(name: str) -> Callable[..., Any]:
    """The flow function registered under ``name``."""
    module_name, function = FLOWS[name].split(":")
    flow_function: Callable[..., Any] = getattr(importlib.import_module(module_name), function)
    return flow_function
