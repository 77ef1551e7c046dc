"""The Prefect block holding one seller's whole connection, so a deployment names a block, not an environment.

Register the type with ``prefect block register -m lw3pl.core.blocks``; create documents in the UI or with
``Lw3plCredentials(...).save("acme")``. A flow given the block (the UI's picker) or its name
(``--credentials-block acme``) loads it inside the run and lays its non-empty values over the environment
settings; secrets stay ``SecretStr`` until a client is built.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from lw3pl.core.settings import Settings

__all__ = ["Lw3plCredentials", "block_overrides", "settings_from_block"]


class Lw3plCredentials(Block):
    """Everything one seller account needs: Linnworks, the 3PL (ShipBob or SFTP), the service map, the name.

    An empty field keeps the worker environment's value (e.g. LINNWORKS_AUTH_URL), so one block is one
    connection and the worker's environment needs no seller setting at all. ``lw3pl_account`` (required)
    names the seller in the ledger, the rate limits and the artifacts: every block has its own.
    """

    _block_type_name = "lw3pl Credentials"

    # Required (the one field without a default): besides naming the seller, it keeps a block reference
    # ({"$ref": ...}, what the UI's picker sends) from also matching the block's own schema, which Prefect's
    # parameter check (oneOf: the block or a reference) would refuse as ambiguous.
    lw3pl_account: str = Field(
        min_length=1, description="the seller's name in the ledger, rate limits, artifacts"
    )
    linnworks_auth_url: str = Field(default="", description="empty: https://api.linnworks.net")
    linnworks_application_id: str = ""
    linnworks_application_secret: SecretStr = SecretStr("")
    linnworks_installation_token: SecretStr = SecretStr("")
    fulfilment_centre_name: str = Field(default="", description="empty: 3PL Warehouse")
    threepl_adapter: Literal["", "shipbob", "sftp"] = Field(default="", description="empty: shipbob")
    shipbob_api_url: str = Field(default="", description="empty: https://api.shipbob.com")
    shipbob_api_version: str = Field(default="", pattern=r"^(\d{4}-\d{2})?$", description="empty: 2026-01")
    shipbob_api_token: SecretStr = SecretStr("")
    shipbob_channel_id: int | None = None
    sftp_host: str = ""
    sftp_port: int | None = Field(default=None, ge=1, le=65535)
    sftp_username: str = ""
    sftp_password: SecretStr = SecretStr("")
    sftp_host_key: str = Field(default="", description='the server\'s key, one line: "ssh-ed25519 AAAA..."')
    sftp_inbound_dir: str = ""
    sftp_outbound_dir: str = ""
    shipping_service_map: dict[str, str] = Field(
        default_factory=dict, description='Linnworks postal service -> 3PL service; "*" is the fallback'
    )
    linnworks_web_url: str = Field(default="", description="order link template, {id} = Linnworks OrderId")
    threepl_web_url: str = Field(default="", description="order link template, {id} = the 3PL order id")


def _is_empty(value: object) -> bool:
    if isinstance(value, SecretStr):
        return not value.get_secret_value()
    return value is None or value == "" or value == {}


def block_overrides(block: Lw3plCredentials) -> dict[str, Any]:
    """The block's non-empty values, by setting name (what it lays over the environment)."""
    values = {name: getattr(block, name) for name in Lw3plCredentials.model_fields}
    return {
        name: value
        for name, value in values.items()
        if name in Settings.model_fields and not _is_empty(value)
    }


def settings_from_block(block_name: str, base: Settings | None = None) -> Settings:
    """The environment settings with the named block's non-empty values laid over them (and validated)."""
    block = cast(Lw3plCredentials, Lw3plCredentials.load(block_name))
    current = (base or Settings()).model_dump()
    return Settings.model_validate({**current, **block_overrides(block)})
