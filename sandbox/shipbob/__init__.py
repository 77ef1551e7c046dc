"""A local ShipBob 1.0 API (see :mod:`sandbox.shipbob.server`), built from ``spec.json`` alone."""

from sandbox.shipbob.schema import SpecValidator, load_spec
from sandbox.shipbob.server import CORRUPTIONS, FAULT_KINDS, RequestRecord, ShipBobSandbox

__all__ = ["CORRUPTIONS", "FAULT_KINDS", "RequestRecord", "ShipBobSandbox", "SpecValidator", "load_spec"]
