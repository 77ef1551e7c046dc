"""The Linnworks sandbox: an auth host and a data host on loopback that behave like the real v1 API.

Wire behaviour follows REFERENCE §1 and §12: sessions with a sliding idle expiry, the raw token in
``Authorization`` (``Bearer`` is refused), parameters from query string, form or JSON (names in any case),
both verbs on every method, 400 "The request is invalid." for what ASP.NET cannot bind, business errors as
``{"Code": "-", "Message": ...}``, per-method quotas in a 60-second window with 429 and ``Retry-After``, and
void methods answering 204. Replies are written the way .NET (Newtonsoft) writes them: empty collections
and unset strings as ``null`` (``configure(null_empty_values=False)`` sends ``[]`` and ``""`` instead).
Admin endpoints live under ``/_admin/`` on the data host (see ``admin.py``).
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from sandbox._http import DropConnection, HttpRequest, HttpResponse, LoopbackServer, json_response
from sandbox.linnworks.account import Account
from sandbox.linnworks.admin import AdminMixin, handle_admin
from sandbox.linnworks.faults import FaultBook, FaultRule
from sandbox.linnworks.handlers import HANDLERS
from sandbox.linnworks.model import BusinessError, dotnet_nulls
from sandbox.linnworks.seed import Seeder
from sandbox.linnworks.spec import Operation, Spec, bind_parameters, load_spec

__all__ = ["LinnworksSandbox"]

logger = logging.getLogger(__name__)

INVALID = {"Message": "The request is invalid."}
DENIED = {"Message": "Authorization has been denied for this request."}
AUTH_PATH = "/api/auth/authorizebyapplication"
REDACTED_PARAMS = {"applicationsecret", "token", "request"}
LOG_LIMIT = 50_000


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _BadRequest(Exception):
    """The body cannot be read at all (bad JSON, unsupported media type)."""

    def __init__(self, reason: str, status: int = 400, payload: Mapping[str, Any] = INVALID) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.payload = payload


@dataclass
class _Call:
    """What the request log keeps about one call."""

    seq: int
    time: str
    host: str
    verb: str
    path: str
    method: str | None
    params: dict[str, Any]
    status: int = 0
    reason: str | None = None
    fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "host": self.host,
            "verb": self.verb,
            "path": self.path,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "reason": self.reason,
            "fault": self.fault,
        }


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass
class _Settings:
    time_scale: float = 1.0
    rate_limits: bool = True
    session_idle_seconds: float = 1200.0
    strict_wrapper: set[str] = field(default_factory=set)
    auth_failure_status: int = 401
    null_empty_values: bool = True


class LinnworksSandbox(AdminMixin):
    """A local Linnworks: ``auth_url`` answers ``Auth/AuthorizeByApplication``, ``data_url`` the rest.

    Args:
        seed: Seeds every random choice (ids, credentials, seeded data, probabilistic faults).
        time_scale: Speeds time up: session idle expiry and the rate-limit window are divided by it
            (``time_scale=60``: a one-second quota window).
        rate_limits: Enforce the per-method quotas from the spec.
        session_idle_seconds: Idle time after which a session token stops working (sliding).
        clock: Returns the current aware UTC time; inject to test expiry without waiting.
        default_seed: Start with the default account (Default location, ~20 stock items, postal services).
        catalogue: Seed these stock items instead of the built-in ones (``{"sku", "title", "barcode"?,
            "level"?, ...}``), e.g. to match a 3PL sandbox's catalogue.
        host, auth_port, data_port: Where to listen (port 0 = a free port).

    Example:
        >>> with LinnworksSandbox(seed=1) as lw:  # doctest: +SKIP
        ...     lw.create_orders(3)
    """

    def __init__(
        self,
        seed: int = 0,
        time_scale: float = 1.0,
        rate_limits: bool = True,
        session_idle_seconds: float = 1200.0,
        clock: Callable[[], datetime] | None = None,
        *,
        default_seed: bool = True,
        catalogue: Sequence[Mapping[str, Any]] | None = None,
        host: str = "127.0.0.1",
        auth_port: int = 0,
        data_port: int = 0,
        spec: Spec | None = None,
    ) -> None:
        self.spec = spec or load_spec()
        self.clock = clock or _utc_now
        self.settings = _Settings(time_scale, rate_limits, session_idle_seconds)
        credentials = random.Random(f"credentials:{seed}")
        self.application_id = _guid(credentials)
        self.application_secret = _guid(credentials)
        self.installation_token = _guid(credentials)
        self._lock = threading.RLock()
        self._default_seed = default_seed
        self._catalogue = [dict(entry) for entry in catalogue] if catalogue is not None else None
        self._sessions: dict[str, float] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._log: deque[_Call] = deque(maxlen=LOG_LIMIT)
        self._counts: Counter[str] = Counter()
        self._seq = 0
        self._started = False
        self._auth_server = LoopbackServer(self._handle_auth, host=host, port=auth_port)
        self._data_server = LoopbackServer(self._handle_data, host=host, port=data_port)
        self.reset(seed)

    # ------------------------------------------------------------- lifecycle
    @property
    def auth_url(self) -> str:
        """Base URL of the auth host (``{auth_url}/api/Auth/AuthorizeByApplication``)."""
        return self._auth_server.url

    @property
    def data_url(self) -> str:
        """Base URL of the data host, as returned in ``Server`` (no ``/api``)."""
        return self._data_server.url

    def start(self) -> LinnworksSandbox:
        """Serve both hosts in background threads."""
        self._auth_server.start()
        self._data_server.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and release both ports (also safe when never started)."""
        if self._started:
            threads = [
                threading.Thread(target=server.stop) for server in (self._auth_server, self._data_server)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            for server in (self._auth_server, self._data_server):
                server._server.server_close()
        self._started = False

    def __enter__(self) -> LinnworksSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self, seed: int | None = None) -> None:
        """Forget all data, sessions, faults, counters and the request log; re-seed (default: same seed)."""
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(f"data:{self.seed}")
            self._session_rng = random.Random(f"sessions:{self.seed}")
            self.account = Account(self.clock, lambda: _guid(self._rng))
            self.seeder = Seeder(self.account, self._rng)
            self.faults = FaultBook(random.Random(f"faults:{self.seed}"))
            self._sessions.clear()
            self._windows.clear()
            self._log.clear()
            self._counts.clear()
            if self._default_seed:
                self.seeder.default_account(self._catalogue)

    # ----------------------------------------------------------------- time
    def _seconds(self) -> float:
        return self.clock().timestamp()

    def _idle_limit(self) -> float:
        return self.settings.session_idle_seconds / self.settings.time_scale

    def _window_length(self) -> float:
        return 60.0 / self.settings.time_scale

    # ------------------------------------------------------------- sessions
    def _new_session(self) -> str:
        token = _guid(self._session_rng)
        self._sessions[token] = self._seconds()
        return token

    def _session_ok(self, token: str | None) -> bool:
        """True and the idle timer restarts if ``token`` is a live session; expired ones are forgotten."""
        if token is None or token not in self._sessions:
            return False
        now = self._seconds()
        if now - self._sessions[token] > self._idle_limit():
            del self._sessions[token]
            return False
        self._sessions[token] = now
        return True

    def revoke_sessions(self, token: str | None = None) -> int:
        """End one session (or all); the next call with it gets 401. Returns how many were ended."""
        with self._lock:
            if token is None:
                count = len(self._sessions)
                self._sessions.clear()
                return count
            return 1 if self._sessions.pop(token, None) is not None else 0

    def sessions(self) -> list[str]:
        """Live session tokens."""
        with self._lock:
            return list(self._sessions)

    # ----------------------------------------------------------- rate limits
    def _quota_response(self, key: str, operation: Operation) -> HttpResponse | None:
        if not self.settings.rate_limits:
            return None
        now = self._seconds()
        length = self._window_length()
        window = self._windows.get((key, operation.name))
        if window is None or now - window.start >= length:
            window = self._windows[(key, operation.name)] = _Window(start=now)
        if window.count >= operation.rate_limit:
            wait = max(1, math.ceil(window.start + length - now))
            return _quota_exceeded(operation.rate_limit, {"Retry-After": str(wait)})
        window.count += 1
        return None

    # ------------------------------------------------------------- requests
    def _log_call(self, host: str, request: HttpRequest, method: str | None, params: dict[str, Any]) -> _Call:
        self._seq += 1
        call = _Call(
            seq=self._seq,
            time=self.clock().isoformat(),
            host=host,
            verb=request.method,
            path=request.path,
            method=method,
            params=params,
        )
        self._log.append(call)
        if method is not None:
            self._counts[method] += 1
        return call

    def _handle_auth(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            if request.path.rstrip("/").lower() != AUTH_PATH:
                call = self._log_call("auth", request, None, {})
                return _finish(call, _not_found(request.path), "no such path on the auth host")
            operation = self.spec.by_name("Auth/AuthorizeByApplication")
            return self._serve(request, operation, "auth", self._authorize)

    def _handle_data(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/_admin"):
            return handle_admin(self, request)
        with self._lock:
            operation = self.spec.find(request.path)
            if operation is None or not operation.authenticated:
                call = self._log_call("data", request, None, {})
                return _finish(call, _not_found(request.path), "no such path on the data host")
            return self._serve(request, operation, "data", self._call_method)

    def _serve(
        self,
        request: HttpRequest,
        operation: Operation,
        host: str,
        work: Callable[[Operation, dict[str, Any], str | None], HttpResponse],
    ) -> HttpResponse:
        """Faults, auth, quota, binding, then ``work``; every outcome lands in the request log."""
        try:
            raw = _read_params(request)
        except _BadRequest as error:
            call = self._log_call(host, request, operation.name, {})
            return _finish(call, json_response(error.payload, error.status), error.reason)
        call = self._log_call(host, request, operation.name, _loggable(raw))
        token = request.header("Authorization")
        fault = self.faults.pick(operation.name)
        refusal = self._gate(request, operation, token, fault, call)
        if refusal is not None:
            return refusal
        values = self._bind(operation, raw, host, call)
        if isinstance(values, HttpResponse):
            return values
        response = work(operation, values, token)
        _finish(call, response, response.headers.get("X-Sandbox-Reason"))
        if fault is not None and fault.kind == "drop_after":
            raise DropConnection
        if fault is not None and fault.kind == "slow":
            response.delay_seconds = fault.delay_seconds
        return response

    def _gate(
        self,
        request: HttpRequest,
        operation: Operation,
        token: str | None,
        fault: FaultRule | None,
        call: _Call,
    ) -> HttpResponse | None:
        """The refusals that come before binding: verb, injected faults, session, quota."""
        if request.method not in {"GET", "POST"}:
            message = f"The requested resource does not support http method '{request.method}'."
            return _finish(call, json_response({"Message": message}, 405), "verb not allowed")
        if fault is not None:
            call.fault = fault.kind
            early = self._early_fault(fault, operation, token, call)
            if early is not None:
                return early
        if operation.authenticated and not self._session_ok(token):
            reason = "missing Authorization" if token is None else "unknown or expired session token"
            if token is not None and token.lower().startswith("bearer "):
                reason = "'Bearer' prefix: Linnworks expects the raw token"
            return _finish(call, json_response(DENIED, 401), reason)
        quota = self._quota_response(token or "auth", operation)
        return None if quota is None else _finish(call, quota, "rate limit")

    def _bind(
        self, operation: Operation, raw: dict[str, Any], host: str, call: _Call
    ) -> dict[str, Any] | HttpResponse:
        """The bound values, or the 400 the real server would send."""
        bound = bind_parameters(
            operation,
            raw,
            spec=self.spec,
            allow_unwrapped=operation.name not in self.settings.strict_wrapper,
            redact_values=host == "auth",
        )
        if bound.problems:
            reason = "; ".join(bound.problems)
            response = json_response(INVALID, 400)
            if host == "data":
                response.headers["X-Sandbox-Reason"] = _header_text(reason)
            return _finish(call, response, reason)
        if operation.single_request is not None and bound.values.get("request") is None:
            return _finish(call, json_response({"Message": "request is empty"}, 400), "no request object")
        return bound.values

    def _early_fault(
        self, fault: FaultRule, operation: Operation, token: str | None, call: _Call
    ) -> HttpResponse | None:
        if fault.kind == "drop_before":
            call.status = 0
            call.reason = "dropped before the work"
            raise DropConnection
        if fault.kind == "server_error":
            payload = {"Message": "An error has occurred."}
            return _finish(call, json_response(payload, fault.status), "injected server error")
        if fault.kind == "rate_limit":
            return _finish(
                call, _quota_exceeded(operation.rate_limit, self._retry_after(fault)), "injected 429"
            )
        if fault.kind == "revoke_session":
            if token is not None:
                self._sessions.pop(token, None)
            return _finish(call, json_response(DENIED, 401), "injected session revocation")
        return None

    def _retry_after(self, fault: FaultRule) -> dict[str, str]:
        if fault.retry_after == "missing":
            return {}
        if fault.retry_after == "garbage":
            return {"Retry-After": "soon-ish"}
        if fault.retry_after == "http_date":
            moment = datetime.now(UTC) + timedelta(seconds=fault.retry_after_seconds)
            return {"Retry-After": format_datetime(moment, usegmt=True)}
        return {"Retry-After": str(fault.retry_after_seconds)}

    def _authorize(self, operation: Operation, values: dict[str, Any], token: str | None) -> HttpResponse:
        request = values.get("request") or {}
        given = (request.get("ApplicationId"), request.get("ApplicationSecret"), request.get("Token"))
        if given != (self.application_id, self.application_secret, self.installation_token):
            payload = {"Code": "-", "Message": "Invalid application credentials"}
            response = json_response(payload, self.settings.auth_failure_status)
            response.headers["X-Sandbox-Reason"] = "credentials do not match"
            return response
        return json_response(self._base_session(self._new_session()))

    def _base_session(self, token: str) -> dict[str, Any]:
        user = str(uuid.uuid5(uuid.UUID(self.application_id), "user"))
        return {
            "Id": user,
            "EntityId": str(uuid.uuid5(uuid.UUID(self.application_id), "entity")),
            "DatabaseName": "sandbox",
            "DatabaseServer": "sandbox",
            "PrivateDatabaseServer": "sandbox",
            "DatabaseUser": "sandbox",
            "DatabasePassword": "",
            "AppName": "lw3pl sandbox",
            "sid_registration": user,
            "UserName": "sandbox@example.com",
            "Md5Hash": "",
            "Locality": "EU",
            "SuperAdmin": True,
            "TTL": 1,
            "Token": token,
            "AccessToken": "",
            "GroupName": "sandbox",
            "Device": "",
            "DeviceType": "",
            "UserType": "Application",
            "Status": {"State": "AVAILABLE", "Reason": "", "Parameters": {}},
            "UserId": user,
            "Properties": {},
            "Email": "sandbox@example.com",
            "Server": self.data_url,
            "PushServer": "",
        }

    def _call_method(self, operation: Operation, values: dict[str, Any], token: str | None) -> HttpResponse:
        try:
            payload = HANDLERS[operation.name](self.account, values)
        except BusinessError as error:
            response = json_response({"Code": error.code, "Message": error.message}, 400)
            response.headers["X-Sandbox-Reason"] = _header_text(error.message)
            return response
        except Exception as error:  # a sandbox bug must still answer, as IIS would: 500
            logger.exception("linnworks sandbox: %s failed", operation.name)
            response = json_response({"Message": "An error has occurred."}, 500)
            response.headers["X-Sandbox-Reason"] = _header_text(
                f"sandbox bug: {type(error).__name__}: {error}"
            )
            return response
        if operation.response_status == 204:
            return HttpResponse(status=204)
        return json_response(dotnet_nulls(payload) if self.settings.null_empty_values else payload)

    # ------------------------------------------------------- admin helpers
    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The request log (oldest first), optionally only calls of ``method`` (``Controller/Method``)."""
        with self._lock:
            wanted = method.lower() if method else None
            return [c.as_dict() for c in self._log if wanted is None or (c.method or "").lower() == wanted]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()
            self._counts.clear()

    def call_counts(self) -> dict[str, int]:
        """Calls received per method (every outcome counts, including 4xx and injected faults)."""
        with self._lock:
            return dict(self._counts)

    def add_fault(self, kind: str, method: str = "*", **options: Any) -> dict[str, Any]:
        """Add a :class:`FaultRule` (see ``faults.py`` for the kinds and options); returns it as a dict."""
        rule = FaultRule(kind=kind, method=method, **options)  # type: ignore[arg-type]
        with self._lock:
            return self.faults.add(rule).as_dict()

    def fault_rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule in self.faults.rules]

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def configure(
        self,
        *,
        time_scale: float | None = None,
        rate_limits: bool | None = None,
        session_idle_seconds: float | None = None,
        strict_wrapper: list[str] | None = None,
        process_failure_as_400: bool | None = None,
        change_status_skips_parked: bool | None = None,
        max_ids_per_call: int | bool | None = False,
        auth_failure_status: int | None = None,
        null_empty_values: bool | None = None,
    ) -> dict[str, Any]:
        """Change settings at run time; ``None`` leaves a setting alone (``max_ids_per_call=None`` clears)."""
        with self._lock:
            settings = self.settings
            if time_scale is not None:
                if time_scale <= 0:
                    raise ValueError("time_scale must be positive")
                settings.time_scale = time_scale
            if rate_limits is not None:
                settings.rate_limits = rate_limits
                self._windows.clear()
            if session_idle_seconds is not None:
                settings.session_idle_seconds = session_idle_seconds
            if auth_failure_status is not None:
                settings.auth_failure_status = auth_failure_status
            if null_empty_values is not None:
                settings.null_empty_values = null_empty_values
            if strict_wrapper is not None:
                settings.strict_wrapper = {self.spec.by_name(name).name for name in strict_wrapper}
            options = self.account.options
            if process_failure_as_400 is not None:
                options.process_failure_as_400 = process_failure_as_400
            if change_status_skips_parked is not None:
                options.change_status_skips_parked = change_status_skips_parked
            if max_ids_per_call is not False:
                options.max_ids_per_call = None if max_ids_per_call is None else int(max_ids_per_call)
            return self.describe_settings()

    def describe_settings(self) -> dict[str, Any]:
        with self._lock:
            options = self.account.options
            return {
                "time_scale": self.settings.time_scale,
                "rate_limits": self.settings.rate_limits,
                "session_idle_seconds": self.settings.session_idle_seconds,
                "strict_wrapper": sorted(self.settings.strict_wrapper),
                "auth_failure_status": self.settings.auth_failure_status,
                "null_empty_values": self.settings.null_empty_values,
                "process_failure_as_400": options.process_failure_as_400,
                "change_status_skips_parked": options.change_status_skips_parked,
                "max_ids_per_call": options.max_ids_per_call,
            }

    def info(self) -> dict[str, Any]:
        """URLs and credentials (what a client needs to connect)."""
        return {
            "auth_url": self.auth_url,
            "data_url": self.data_url,
            "application_id": self.application_id,
            "application_secret": self.application_secret,
            "installation_token": self.installation_token,
            "seed": self.seed,
        }


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _header_text(text: str) -> str:
    """A header-safe (ASCII, one line, bounded) copy of ``text``."""
    flat = " ".join(text.split())[:500]
    return flat.encode("ascii", "backslashreplace").decode("ascii")


def _finish(call: _Call, response: HttpResponse, reason: str | None) -> HttpResponse:
    call.status = response.status
    call.reason = reason
    if response.status >= 400:
        logger.debug("linnworks sandbox %s %s -> %s: %s", call.verb, call.path, response.status, reason)
    return response


def _not_found(path: str) -> HttpResponse:
    payload = {"Message": f"No HTTP resource was found that matches the request URI '{path}'."}
    return json_response(payload, 404)


def _quota_exceeded(limit: int, headers: Mapping[str, str]) -> HttpResponse:
    payload = {"Message": f"API calls quota exceeded! Maximum admitted {limit} per Minute."}
    return json_response(payload, 429, headers)


def _loggable(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as received, with credentials blanked (the log is shown to people)."""
    return {k: ("***" if k.lower() in REDACTED_PARAMS and _is_secret(k, v) else v) for k, v in raw.items()}


def _is_secret(key: str, value: Any) -> bool:
    if key.lower() != "request":
        return True
    text = value if isinstance(value, str) else json.dumps(value)
    return "applicationsecret" in text.lower()


def _read_params(request: HttpRequest) -> dict[str, Any]:
    """Query string, then form or JSON body (body wins), merged case-insensitively (names kept as sent)."""
    merged: dict[str, tuple[str, Any]] = {}
    for name, values in request.query.items():
        merged[name.lower()] = (name, values[0] if values else "")
    for name, value in _body_params(request).items():
        merged[name.lower()] = (name, value)
    return dict(merged.values())


def _body_params(request: HttpRequest) -> dict[str, Any]:
    unsized = request.header("Content-Length") is None and request.header("Transfer-Encoding") is None
    if request.method == "POST" and unsized and not request.body:
        raise _BadRequest("POST without Content-Length", 411, {"Message": "Length Required"})
    if not request.body.strip():
        return {}
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    text = request.body.decode("utf-8", errors="replace")
    if content_type.endswith("json"):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise _BadRequest(f"JSON body does not parse: {error}") from None
        if not isinstance(document, dict):
            raise _BadRequest("JSON body must be an object keyed by parameter name")
        return {str(k): v for k, v in document.items()}
    if content_type in {"application/x-www-form-urlencoded", ""}:
        return dict(parse_qsl(text, keep_blank_values=True))
    message = f"The request entity's media type '{content_type}' is not supported for this resource."
    raise _BadRequest(f"unsupported media type {content_type}", 415, {"Message": message})
