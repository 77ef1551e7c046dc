"""The ``lw3pl`` command: ``demo``, ``sandbox`` and ``run FLOW``.

Errors that need a person (wrong configuration or credentials) print one paragraph and exit 1; no trace.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from clients.errors import Lw3plError, StopError

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_UNAVAILABLE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lw3pl", description="Linnworks <-> 3PL connector on Prefect.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run the demo against the built-in sandboxes (no accounts needed)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the sandbox data (default 0)")
    commands.add_parser(
        "sandbox", help="run the local sandboxes in the foreground (further options go to the sandbox stack)"
    )
    run = commands.add_parser("run", help="run one flow (not yet available)")
    run.add_argument("flow", metavar="FLOW", help="the flow to run, e.g. export-orders")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lw3pl`` console script; returns the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "sandbox":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return _dispatch(args, extra)
    except StopError as error:
        return _explain("lw3pl stopped: a setting or credential needs fixing.", error)
    except Lw3plError as error:
        return _explain("lw3pl failed.", error)
    except KeyboardInterrupt:
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace, extra: list[str]) -> int:
    if args.command == "demo":
        from lw3pl.demo import run_demo

        return run_demo(seed=args.seed)
    if args.command == "sandbox":
        from sandbox.stack import serve_forever

        serve_forever(extra)
        return EXIT_OK
    print(f"lw3pl run {args.flow}: not yet available", file=sys.stderr)
    return EXIT_UNAVAILABLE


def _explain(headline: str, error: Lw3plError) -> int:
    print(textwrap.fill(f"{headline} {error}", width=100), file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
