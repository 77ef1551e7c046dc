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
    fulfilment_centre_name: str = "3PL Warehouse"
    export_identifier_tag: str = "SENT_TO_3PL"

    # --- the ledger ------------------------------------------------------------------------------
    lw3pl_data_dir: Path = Path(".lw3pl")
    ledger_url: str = ""

    # --- the 3PL ---------------------------------------------------------------------------------
    threepl_adapter: Literal["shipbob", "sftp"] = "shipbob"
    shipbob_api_url: str = "https://api.shipbob.com"
    shipbob_api_token: SecretStr = SecretStr("")
    shipbob_channel_id: int | None = None
    sftp_host: str = ""
    sftp_port: int = Field(default=22, ge=1, le=65535)
    sftp_username: str = ""
    sftp_password: SecretStr = SecretStr("")
    sftp_key_file: Path | None = None
    sftp_inbound_dir: str = "inbound"
    sftp_outbound_dir: str = "outbound"

    @cached_property
    def resolved_ledger_url(self) -> str:
        """LEDGER_URL, or a SQLite file in the data directory when it is not set."""
        if self.ledger_url:
            return self.ledger_url
        return f"sqlite:///{(self.lw3pl_data_dir / 'ledger.db').resolve()}"
