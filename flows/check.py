"""Deployment ``check-configuration`` (and ``lw3pl check``): what is ready for the first export, read only.

This module is the thin adapter around :mod:`tasks.check`: it builds the clients from the settings (without
migrating the ledger, unlike a flow's runtime) or takes them from the flow's runtime, runs the checks, and
shows the table. The run fails when the report is not ready, so the UI shows a red run with the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext

from clients.errors import StopError
from clients.linnworks import LinnworksClient
from clients.threepl import ThreePLAdapter
from lw3pl.core.blocks import settings_from_block
from lw3pl.core.settings import Settings
from tasks.check import CheckReport, CheckStatus, Unavailable, run_checks
from tasks.context import Runtime, existing_runtime, make_adapter
from tasks.ledger_status import read_ledger_status

__all__ = ["check_configuration", "check_runtime", "check_settings", "publish_check", "settings_for"]

ARTIFACT_KEY = "check-configuration"


@flow(name="check-configuration", log_prints=False)
def check_configuration(credentials_block: str | None = None) -> dict[str, int]:
    """Report what an export needs (credentials, location, identifier, service map, countries, 3PL, ledger).

    Writes nothing. Fails when an export would not send every eligible order; the table is the artifact.

    Args:
        credentials_block: name of an ``lw3pl Credentials`` block; default: credentials from the environment.
    """
    existing = existing_runtime(credentials_block)  # the demo's, the tests', a worker's; else built here
    settings = existing.settings if existing else settings_for(credentials_block)
    report = check_runtime(existing) if existing else check_settings(settings)
    publish_check(report, settings.lw3pl_account)
    if not report.ready:
        failed = ", ".join(row.item for row in report.rows if row.status is CheckStatus.FAIL)
        raise StopError(f"not ready for the first export: {failed} (see the check-configuration artifact)")
    return report.counts()


def check_settings(settings: Settings) -> CheckReport:
    """Build the clients from ``settings``, run every check, close them again."""
    with _clients(settings) as (linnworks, threepl, unavailable):
        ledger = read_ledger_status(settings.resolved_ledger_url)
        return run_checks(settings, linnworks, threepl, ledger, unavailable)


def check_runtime(runtime: Runtime) -> CheckReport:
    """Run every check with the clients of a flow's runtime (the setup flow ends with this)."""
    ledger = read_ledger_status(runtime.settings.resolved_ledger_url)
    return run_checks(runtime.settings, runtime.linnworks, runtime.threepl, ledger)


def publish_check(report: CheckReport, account: str) -> None:
    """Show the report as ``account``'s markdown artifact of the current flow run (nothing outside a run)."""
    if FlowRunContext.get() is not None:
        create_markdown_artifact(
            markdown=report.markdown(),
            key=f"{account}-{ARTIFACT_KEY}",
            description="lw3pl configuration check",
        )


@contextmanager
def _clients(
    settings: Settings,
) -> Iterator[tuple[LinnworksClient | None, ThreePLAdapter | None, Unavailable]]:
    with ExitStack() as stack:
        linnworks, why_linnworks = _linnworks(settings)
        threepl, why_threepl = _threepl(settings)
        for client in (linnworks, threepl):
            if client is not None:
                stack.callback(client.close)
        yield linnworks, threepl, Unavailable(linnworks=why_linnworks, threepl=why_threepl)


def _linnworks(settings: Settings) -> tuple[LinnworksClient | None, str]:
    if not settings.linnworks_application_id:
        return None, "LINNWORKS_APPLICATION_ID is not set"
    client = LinnworksClient(
        settings.linnworks_application_id,
        settings.linnworks_application_secret,
        settings.linnworks_installation_token,
        auth_url=settings.linnworks_auth_url,
        time_scale=settings.partner_time_scale,
    )
    return client, ""


def _threepl(settings: Settings) -> tuple[ThreePLAdapter | None, str]:
    try:
        return make_adapter(settings), ""
    except (StopError, ValueError) as error:
        return None, str(error)


def settings_for(credentials_block: str | None) -> Settings:
    """The settings from the environment, or from the named credentials block."""
    if credentials_block is None:
        return Settings()
    return settings_from_block(credentials_block)
