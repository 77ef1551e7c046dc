"""The ShipBob adapter (``clients.threepl.ThreePLAdapter``), API version 2026-01 by default.

Example:
    >>> from pydantic import SecretStr
    >>> from clients.shipbob import ShipBobAdapter, ShipBobConfig
    >>> adapter = ShipBobAdapter(ShipBobConfig("https://api.shipbob.com", SecretStr("pat"), channel_id=1))
    >>> adapter.capabilities().idempotency
    'reject_duplicate'
"""

from clients._pacing import NoPacer, Pacer, SpacingPacer
from clients._retry import parse_retry_after
from clients.shipbob._transport import ApiVersionError, RetryPolicy
from clients.shipbob.adapter import DEFAULT_API_VERSION, ShipBobAdapter, ShipBobConfig

__all__ = [
    "DEFAULT_API_VERSION",
    "ApiVersionError",
    "NoPacer",
    "Pacer",
    "RetryPolicy",
    "ShipBobAdapter",
    "ShipBobConfig",
    "SpacingPacer",
    "parse_retry_after",
]
