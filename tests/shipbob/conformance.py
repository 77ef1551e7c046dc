"""Request conformance against the repo's ShipBob spec subset (sandbox/shipbob/spec.json, 2026-01).

``violations`` checks one request more strictly than ShipBob does: the operation exists, the bearer token
and the channel header are there, every query parameter is one the spec names (exact spelling: the real
API silently ignores a misspelt filter) with a valid value, and the body fits the schema.

``start``/``finish`` make that check session-wide: the root conftest installs a journal on
``ShipBobSandbox`` before any test, and after the last one every request the adapter sent (those with its
``User-Agent``) to any sandbox during the run is checked; a violation fails the run with the list. Requests
to another version are left to the tests that send them on purpose (the version-stop tests). Under
pytest-xdist each worker checks its own journal (``collect``) and the controller ``add``s what the workers
found before its ``finish``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from clients.shipbob.adapter import USER_AGENT
from sandbox._http import HttpRequest
from sandbox.shipbob import VERSION, ShipBobSandbox, SpecValidator

__all__ = ["WORKER_OUTPUT", "add", "collect", "finish", "problems_in", "start", "violations"]

WORKER_OUTPUT = "shipbob_conformance"
"""The key of a worker's findings in what an xdist worker hands the controller."""

_FOUND_BY_WORKERS: dict[str, list[str]] = {}


def violations(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    validator: SpecValidator,
) -> list[str]:
    """What is wrong with one request, per the spec."""
    operation, path_params, _ = validator.find(method, path)
    if operation is None:
        return [f"{method} {path} is not in the spec"]
    lowered = {key.lower(): value for key, value in headers.items()}
    problems: list[str] = []
    if not lowered.get("authorization", "").startswith("Bearer "):
        problems.append("no bearer token")
    if not lowered.get("shipbob_channel_id", "").isdigit():
        problems.append("no shipbob_channel_id header")
    for parameter in operation.parameters("path"):
        raw = path_params[parameter["name"]]
        problems += [f"{k}: {v}" for k, v in validator.validate_parameter(raw, parameter).items()]
    known = {p["name"]: p for p in operation.parameters("query")}
    for name, value in query:
        if name not in known:
            problems.append(f"query parameter {name!r} is not in the spec")
        else:
            problems += [f"{k}: {v}" for k, v in validator.validate_parameter(value, known[name]).items()]
    schema = operation.body_schema
    if schema is not None:
        payload: Any = json.loads(body)
        problems += [f"body {k}: {v}" for k, v in validator.validate(payload, schema).items()]
    elif body:
        problems.append("a body on an operation that takes none")
    return problems


def start() -> None:
    ShipBobSandbox.journal = []


def collect() -> dict[str, list[str]]:
    """What is wrong with the requests journaled in this process; journaling stops."""
    journal, ShipBobSandbox.journal = ShipBobSandbox.journal or [], None
    return problems_in(journal, SpecValidator())


def add(problems: Mapping[str, list[str]]) -> None:
    """Findings of another process (an xdist worker), reported by this process's ``finish``."""
    for where, found in problems.items():
        _FOUND_BY_WORKERS.setdefault(where, []).extend(found)


def finish(session: pytest.Session) -> None:
    problems = dict(_FOUND_BY_WORKERS)
    for where, found in collect().items():
        problems[where] = problems.get(where, []) + found
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{where}: {'; '.join(found)}" for where, found in sorted(problems.items())]
    message = "ShipBob requests outside the 2026-01 spec during this run:\n  " + "\n  ".join(lines)
    if reporter is not None:
        reporter.write_line(message, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def problems_in(journal: Iterable[HttpRequest], validator: SpecValidator) -> dict[str, list[str]]:
    """``"METHOD path": problems`` for the adapter's requests in ``journal`` that break the spec."""
    problems: dict[str, list[str]] = {}
    for request in journal:
        found = _check(request, validator) if _from_the_adapter(request) else []
        if found:
            problems[f"{request.method} {request.path}"] = found
    return problems


def _from_the_adapter(request: HttpRequest) -> bool:
    agent = request.header("User-Agent") or ""
    return agent.startswith(USER_AGENT) and request.path.startswith(f"/{VERSION}/")


def _check(request: HttpRequest, validator: SpecValidator) -> list[str]:
    query = [(name, value) for name, values in request.query.items() for value in values]
    return violations(request.method, request.path, query, request.headers, request.body, validator)
