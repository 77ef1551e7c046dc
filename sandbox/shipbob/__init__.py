"""A local ShipBob API, version 2026-01 (see :mod:`sandbox.shipbob.server`), built from ``spec.json``."""

from sandbox.shipbob.schema import SpecValidator, load_spec
from sandbox.shipbob.server import (
    CORRUPTIONS,
    FAULT_KINDS,
    ORDERS_PATH,
    RETIRED_VERSIONS,
    VERSION,
    RequestRecord,
    ShipBobSandbox,
)

__all__ = [
    "CORRUPTIONS",
    "FAULT_KINDS",
    "ORDERS_PATH",
    "RETIRED_VERSIONS",
    "VERSION",
    "RequestRecord",
    "ShipBobSandbox",
    "SpecValidator",
    "load_spec",
]
