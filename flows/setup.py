"""Deployment ``setup-fulfilment-centre``: run once from the Prefect UI (running it again changes nothing)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows._common import account_for, finish
from flows.check import check_runtime, publish_check
from lw3pl.core.blocks import Lw3plCredentials
from tasks.check import CheckReport, CheckStatus
from tasks.context import runtime_for
from tasks.reporting import RunReport
from tasks.setup import ensure_export_identifier, ensure_fulfilment_centre, find_fulfilment_centre

__all__ = ["setup_fulfilment_centre"]


@flow(name="setup-fulfilment-centre", log_prints=False)
def setup_fulfilment_centre(
    credentials: Lw3plCredentials | None = None, credentials_block: str | None = None
) -> dict[str, int]:
    """Create or update the FULFILMENT_CENTRE_NAME location as a fulfilment centre, and the export identifier;
    end with the configuration check (``lw3pl check``) as an artifact: what an export still needs.

    Args:
        credentials: the seller's ``lw3pl Credentials`` block (a picker in the UI); else credentials_block.
        credentials_block: the block's name (the CLI's ``--credentials-block``); neither: the environment.
    """
    account = account_for(credentials, credentials_block)
    steps = [ensure_fulfilment_centre(account), ensure_export_identifier(account)]
    # The other flows cache the location lookup for ten minutes; a location made or changed here must
    # replace what they cached (e.g. one deleted and created again in the Linnworks UI).
    refresh = find_fulfilment_centre.with_options(refresh_cache=True)
    runtime = runtime_for(account)
    refresh(account, runtime.settings.fulfilment_centre_name)
    check = check_runtime(runtime)
    publish_check(check, account.name)
    for step in steps:
        get_run_logger().info("%s %s (%s)", step.what, step.action, step.id)
    verdict = "ready" if check.ready else "not ready: " + ", ".join(_failed(check))
    get_run_logger().info("configuration check: %s", verdict)
    notes = [f"{step.what}: {step.action} ({step.id})" for step in steps]
    report = RunReport(notes=[*notes, f"configuration check: {verdict} (the check-configuration artifact)"])
    return finish(account, report, "setup-fulfilment-centre")


def _failed(check: CheckReport) -> list[str]:
    return [row.item for row in check.rows if row.status is CheckStatus.FAIL]
