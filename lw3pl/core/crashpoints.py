"""Named crash points for fault-injection tests.

``crashpoint("after_3pl_create")`` ends the process at once (``os._exit``, no cleanup, no Prefect state
report) when the environment variable ``LW3PL_CRASHPOINT`` names it. Tests run a flow in a subprocess with
that variable set, let it die, then run it again and check the invariants. In production the variable is
unset and a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys

__all__ = ["CRASH_EXIT_CODE", "crashpoint"]

CRASH_EXIT_CODE = 77
_ENV = "LW3PL_CRASHPOINT"


def crashpoint(name: str) -> None:
    """Die here, hard, if the test harness asked for it."""
    if os.environ.get(_ENV) == name:
        sys.stderr.write(f"lw3pl: crash point {name!r} reached, exiting\n")
        sys.stderr.flush()
        os._exit(CRASH_EXIT_CODE)
