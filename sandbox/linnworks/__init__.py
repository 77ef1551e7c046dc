"""A local Linnworks v1 API (auth + data host) built from the official spec, for tests, demo and benchmarks.

Example:
    >>> from sandbox.linnworks import LinnworksSandbox
    >>> with LinnworksSandbox(seed=1) as lw:  # doctest: +SKIP
    ...     order_ids = lw.create_orders(5)
"""

from sandbox.linnworks.faults import FAULT_KINDS, FaultRule
from sandbox.linnworks.model import ZERO_GUID
from sandbox.linnworks.server import LinnworksSandbox
from sandbox.linnworks.spec import validate_call

__all__ = ["FAULT_KINDS", "ZERO_GUID", "FaultRule", "LinnworksSandbox", "validate_call"]
