"""Deployment ``setup-fulfilment-centre``: run once from the Prefect UI (running it again changes nothing)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows._common import finish
from tasks.context import flow_runtime
from tasks.reporting import RunReport
from tasks.setup import ensure_export_identifier, ensure_fulfilment_centre

__all__ = ["setup_fulfilment_centre"]


@flow(name="setup-fulfilment-centre", log_prints=False)
def setup_fulfilment_centre(credentials_block: str | None = None) -> dict[str, int]:
    """Create or update the FULFILMENT_CENTRE_NAME location as a fulfilment centre, and the export identifier.

    Args:
        credentials_block: name of an ``lw3pl Credentials`` block; default: credentials from the environment.
    """
    with flow_runtime(credentials_block):
        steps = [ensure_fulfilment_centre(), ensure_export_identifier()]
    for step in steps:
        get_run_logger().info("%s %s (%s)", step.what, step.action, step.id)
    report = RunReport(notes=[f"{step.what}: {step.action} ({step.id})" for step in steps])
    return finish(report, "setup-fulfilment-centre")
