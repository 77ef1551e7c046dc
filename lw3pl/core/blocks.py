"""Prefect blocks holding credentials, so deployments name a block instead of carrying secrets.

Register the types with ``prefect block register -m lw3pl.core.blocks``; create documents in the UI or with
``Lw3plCredentials(...).save("acme")``. A flow given ``credentials_block="acme"`` loads it inside the run and
overlays its values on the environment settings; secrets stay ``SecretStr`` until a client is built.
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block
from pydantic import SecretStr

from lw3pl.core.settings import Settings

__all__ = ["Lw3plCredentials", "settings_from_block"]


class Lw3plCredentials(Block):
    """Linnworks application credentials and the 3PL's credentials for one seller account.

    An empty field keeps the environment's value. ``lw3pl_account`` names the seller in the ledger, the rate
    limits and the artifacts: give every block of a worker shared by several sellers its own.
    """

    _block_type_name = "lw3pl Credentials"

    lw3pl_account: str = ""
    linnworks_auth_url: str = ""
    shipbob_api_url: str = ""
    linnworks_application_id: str = ""
    linnworks_application_secret: SecretStr = SecretStr("")
    linnworks_installation_token: SecretStr = SecretStr("")
    shipbob_api_token: SecretStr = SecretStr("")
    shipbob_channel_id: int | None = None
    sftp_username: str = ""
    sftp_password: SecretStr = SecretStr("")


def _is_empty(value: object) -> bool:
    if isinstance(value, SecretStr):
        return not value.get_secret_value()
    return value is None or value == ""


def settings_from_block(block_name: str, base: Settings | None = None) -> Settings:
    """The environment settings with the named block's non-empty credentials laid over them."""
    block = Lw3plCredentials.load(block_name)
    overrides: dict[str, Any] = {}
    for field in Lw3plCredentials.model_fields:
        if not hasattr(Settings, field) and field not in Settings.model_fields:
            continue
        value = getattr(block, field)
        if not _is_empty(value):
            overrides[field] = value
    return (base or Settings()).model_copy(update=overrides)
