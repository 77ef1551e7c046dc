"""The ``lw3pl`` command: ``demo``, ``sandbox``, ``check``, ``run FLOW`` and ``ledger``.

Errors that need a person (wrong configuration or credentials) print one paragraph and exit 1; no trace.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from clients.errors import Lw3plError, StopError
from flows.registry import FLOWS, load_flow
from lw3pl.ledger_cli import add_ledger_commands, run_ledger_command

__all__ = ["main", "run_flow"]

EXIT_OK = 0
EXIT_ERROR = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lw3pl", description="Linnworks <-> 3PL connector on Prefect.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run the whole cycle against the built-in sandboxes (no accounts)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the sandbox data (default 0)")
    _add_sandbox_parser(commands)
    check = commands.add_parser(
        "check", help="report what is ready for the first export and what is not (writes nothing)"
    )
    check.add_argument("--credentials-block", default=None, help="name of an 'lw3pl Credentials' block")
    run = commands.add_parser("run", help="run one flow once with the settings from the environment")
    run.add_argument("flow", metavar="FLOW", choices=sorted(FLOWS), help=", ".join(FLOWS))
    run.add_argument("--credentials-block", default=None, help="name of an 'lw3pl Credentials' block")
    add_ledger_commands(commands)
    return parser


def _add_sandbox_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from sandbox.stack import ADMIN_URL_VARIABLE, add_sandbox_arguments

    sandbox = commands.add_parser(
        "sandbox",
        help="run the local Linnworks, ShipBob and SFTP sandboxes in the foreground; prints the export lines",
        description="Run the local sandboxes until Ctrl-C; print the settings that point lw3pl at them.",
    )
    add_sandbox_arguments(sandbox)
    actions = sandbox.add_subparsers(dest="sandbox_action", metavar="ACTION")
    add = actions.add_parser("add-orders", help="place N paid open orders in a running sandbox")
    add.add_argument("count", type=int, metavar="N", help="how many orders")
    add.add_argument(
        "--admin-url",
        default=os.environ.get(ADMIN_URL_VARIABLE, ""),
        help=f"the running sandbox's admin URL (default ${ADMIN_URL_VARIABLE}, printed by lw3pl sandbox)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lw3pl`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except StopError as error:
        return _explain("lw3pl stopped: a setting or credential needs fixing.", error)
    except Lw3plError as error:
        return _explain("lw3pl failed.", error)
    except KeyboardInterrupt:
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from lw3pl.demo import run_demo

        return run_demo(seed=args.seed)
    if args.command == "sandbox":
        return run_sandbox(args)
    if args.command == "ledger":
        return run_ledger_command(args)
    if args.command == "check":
        return run_check(args.credentials_block)
    return run_flow(args.flow, args.credentials_block)


def run_sandbox(args: argparse.Namespace) -> int:
    """Serve the sandboxes in the foreground, or add orders to the running ones (``add-orders N``)."""
    from sandbox.stack import ADMIN_URL_VARIABLE, add_orders, serve_forever

    if args.sandbox_action != "add-orders":
        options = [
            "--orders",
            str(args.orders),
            "--time-scale",
            str(args.time_scale),
            "--seed",
            str(args.seed),
        ]
        serve_forever(options + (["--no-rate-limits"] if args.no_rate_limits else []))
        return EXIT_OK
    if not args.admin_url:
        print(
            f"lw3pl sandbox add-orders: set {ADMIN_URL_VARIABLE} (printed by lw3pl sandbox)", file=sys.stderr
        )
        return EXIT_ERROR
    created = add_orders(args.admin_url.rstrip("/"), args.count)
    print(f"{len(created)} orders placed: {', '.join(created)}")
    return EXIT_OK


def run_check(credentials_block: str | None = None, *, out: TextIO | None = None) -> int:
    """Print the configuration check as one table; 0 only when an export would send every eligible order."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from flows.check import check_settings, settings_for

    try:
        settings = settings_for(credentials_block)
    except (ValidationError, SettingsError) as error:
        print(f"lw3pl check: the settings do not parse: {error}", file=sys.stderr)
        return EXIT_ERROR
    report = check_settings(settings)
    verdict = "ready: an export would send every eligible order" if report.ready else "NOT READY"
    print(f"{report.table()}\n\nlw3pl check: {verdict}.", file=out or sys.stdout)
    return EXIT_OK if report.ready else EXIT_ERROR


def run_flow(name: str, credentials_block: str | None = None, *, out: TextIO | None = None) -> int:
    """Run one flow once; print a one-paragraph summary; 0 on success, 1 if the run failed."""
    from tasks.reporting import add_progress_listener

    remove = add_progress_listener(_TerminalBar(sys.stderr)) if sys.stderr.isatty() else None
    try:
        with _no_traceback_for_stop_errors():
            state = load_flow(name)(credentials_block=credentials_block, return_state=True)
    finally:
        if remove is not None:
            remove()
            print(file=sys.stderr)
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        print(textwrap.fill(f"{name} completed: {_describe(result)}.", width=100), file=out or sys.stdout)
        return EXIT_OK
    reason = result if isinstance(result, BaseException) else state.message
    print(textwrap.fill(f"{name} {state.type.value.lower()}: {reason}", width=100), file=sys.stderr)
    return EXIT_ERROR


def _describe(result: Any) -> str:
    if isinstance(result, dict) and all(isinstance(v, dict) for v in result.values()):
        return "; ".join(f"{step}: {_describe(counts)}" for step, counts in result.items())
    if isinstance(result, dict):
        done = [f"{count} {what.replace('_', ' ')}" for what, count in result.items() if count]
        return ", ".join(done) if done else "nothing to do"
    return str(result)


class _DropStopErrorTraceback(logging.Filter):
    """A configuration error is explained by its message; its traceback only hides the fix on a terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], StopError):
            record.exc_info = None
            record.exc_text = None
        return True


@contextmanager
def _no_traceback_for_stop_errors() -> Iterator[None]:
    from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    drop = _DropStopErrorTraceback()
    for logger in loggers:
        logger.addFilter(drop)
    try:
        with temporary_settings({PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


class _TerminalBar:
    """Draws ``description [#####.....] 50%`` on one terminal line as a flow's batches complete."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width

    def __call__(self, description: str, fraction: float) -> None:
        filled = round(self._width * fraction)
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r{description[:28]:<28} [{bar}] {fraction:4.0%}")
        self._stream.flush()


def _explain(headline: str, error: Lw3plError) -> int:
    print(textwrap.fill(f"{headline} {error}", width=100), file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
