"""Settings read from the environment (and a ``.env`` file if present); secrets are ``SecretStr``.

Clients never read settings themselves: they take explicit arguments, and the code that builds them
(tasks, the CLI) unwraps secrets at that one place.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting lw3pl reads, with its environment variable name (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # --- Linnworks -------------------------------------------------------------------------------
    linnworks_auth_url: str = "https://api.linnworks.net"
    linnworks_application_id: str = ""
    linnworks_application_secret: SecretStr = SecretStr("")
    linnworks_installation_token: SecretStr = SecretStr("")
    linnworks_pacer: Literal["auto", "prefect", "local"] = Field(
        default="auto",
        description="share the Linnworks budget through Prefect global limits (auto: when a server is set)",
    )
    prefect_outage_seconds: float = Field(
        default=180.0,
        ge=0,
        description="seconds a run waits for an unreachable Prefect server (shared budget) before it stops",
    )
    fulfilment_centre_name: str = "3PL Warehouse"
    export_identifier_tag: str = "SENT_TO_3PL"

    # --- the ledger ------------------------------------------------------------------------------
    lw3pl_data_dir: Path = Path(".lw3pl")
    ledger_url: str = ""

    # --- the 3PL ---------------------------------------------------------------------------------
    threepl_adapter: Literal["shipbob", "sftp"] = "shipbob"
    shipbob_api_url: str = "https://api.shipbob.com"  # the host; the version is appended
    # ShipBob's date version (https://developer.shipbob.com/versioning); the sandbox speaks the default.
    shipbob_api_version: str = Field(default="2026-01", pattern=r"^\d{4}-\d{2}$")
    shipbob_api_token: SecretStr = SecretStr("")
    shipbob_channel_id: int | None = None
    sftp_host: str = ""
    sftp_port: int = Field(default=22, ge=1, le=65535)
    sftp_username: str = ""
    sftp_password: SecretStr = SecretStr("")
    sftp_key_file: Path | None = None
    sftp_host_key: str = ""  # the server's public key, one OpenSSH line ("ssh-ed25519 AAAA...")
    sftp_known_hosts: Path | None = None  # or a known_hosts file; neither: ~/.ssh/known_hosts
    sftp_inbound_dir: str = "inbound"
    sftp_outbound_dir: str = "outbound"

    # --- the flows -------------------------------------------------------------------------------
    lw3pl_account: str = Field(
        default="default", description="names this seller in the ledger and rate limits"
    )
    export_batch_size: int = Field(default=200, ge=1, le=500)
    shipping_service_map: dict[str, str] = Field(
        default_factory=dict,
        description='Linnworks postal service name -> 3PL service, JSON; "*" is the fallback. '
        "An order whose service is not mapped is quarantined with the service named.",
    )
    country_code_map: dict[str, str] = Field(
        default_factory=dict, description="extra Linnworks country name -> ISO code pairs, JSON"
    )
    composite_items: Literal["components", "parent"] = "components"
    write_remote_id_property: bool = Field(
        default=False, description="also store the 3PL id in an extended property (one call per order)"
    )
    threepl_cancel_policy: Literal["hold", "cancel"] = Field(
        default="hold",
        description="what a cancellation by the 3PL does in Linnworks: note and hold, or cancel",
    )
    hold_marker: int = Field(
        default=3,
        ge=0,
        le=6,
        description="the Linnworks order marker (tag 1..6; 0: none) set while the 3PL holds an order",
    )
    write_back_corrected_address: bool = Field(
        default=False,
        description="write an address the 3PL corrected (seen when it releases a hold) back to Linnworks; "
        "off: a note only",
    )
    short_shipment_policy: Literal["hold", "adjust"] = Field(
        default="hold",
        description="an order the 3PL closed with fewer units: hold for a person, or adjust its lines and "
        "process it",
    )
    process_method: Literal["batch", "fulfilment_centre"] = Field(
        default="batch", description="ProcessOrdersInBatch (fewer calls) or ProcessFulfilmentCentreOrder"
    )
    stock_review_threshold: int = Field(
        default=500, ge=0, description="a stock change larger than this many units is held for review"
    )
    partner_time_scale: float = Field(
        default=1.0,
        gt=0,
        description="sandboxes only: how much faster than real time the partners' minute runs",
    )
    lease_seconds: int = Field(default=600, ge=10, description="how long a run's claim on orders lasts")

    # --- links in the artifacts ------------------------------------------------------------------
    # Each is a link template with ``{id}`` for the partner's order id (a base URL without ``{id}`` gets
    # ``/{id}`` appended); empty: the artifact tables show ids without links.
    linnworks_web_url: str = Field(
        default="", description="link to a Linnworks order, {id} = its OrderId (empty: no link)"
    )
    threepl_web_url: str = Field(
        default="",
        description="link to an order in the 3PL's web app, {id} = the 3PL order id (empty: no link)",
    )

    @cached_property
    def resolved_ledger_url(self) -> str:
        """LEDGER_URL, or a SQLite file in the data directory when it is not set."""
        if self.ledger_url:
            return self.ledger_url
        return f"sqlite:///{(self.lw3pl_data_dir / 'ledger.db').resolve()}"
