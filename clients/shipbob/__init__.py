"""The ShipBob 1.0 adapter (``clients.threepl.ThreePLAdapter``).

Example:
    >>> from pydantic import SecretStr
    >>> from clients.shipbob import ShipBobAdapter, ShipBobConfig
    >>> adapter = ShipBobAdapter(ShipBobConfig("https://api.shipbob.com", SecretStr("pat"), channel_id=1))
    >>> adapter.capabilities().idempotency
    'reject_duplicate'
"""

from clients._pacing import NoPacer, Pacer, SpacingPacer
from clients._retry import parse_retry_after
from clients.shipbob._transport import RetryPolicy
from clients.shipbob.adapter import ShipBobAdapter, ShipBobConfig

__all__ = [
    "NoPacer",
    "Pacer",
    "RetryPolicy",
    "ShipBobAdapter",
    "ShipBobConfig",
    "SpacingPacer",
    "parse_retry_after",
]
