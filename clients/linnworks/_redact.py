"""Scrub bodies before they reach a log line or an exception: secrets, tokens and personal data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from clients.errors import excerpt

__all__ = ["MASK", "scrub_fields", "scrub_text"]

MASK = "***"
_SENSITIVE_KEYS = frozenset(
    key.lower()
    for key in (
        "ApplicationSecret",
        "Token",
        "AccessToken",
        "Authorization",
        "DatabasePassword",
        "DatabaseUser",
        "Password",
        "Md5Hash",
        "EmailAddress",
        "Email",
        "Address1",
        "Address2",
        "Address3",
        "Town",
        "Region",
        "PostCode",
        "FullName",
        "Company",
        "PhoneNumber",
        "ChannelBuyerName",
        "TaxNumber",
        "TaxId",
        "UserName",
    )
)


def scrub_text(text: str, secrets: Iterable[str] = (), limit: int | None = None) -> str:
    """``text`` with sensitive JSON values masked and every known secret string replaced.

    Form bodies are scrubbed field by field (their values are JSON text); anything else only loses the
    secrets. ``limit`` shortens the result to a one-line excerpt.
    """
    scrubbed = _scrub_json_text(text)
    for secret in secrets:
        if secret:
            scrubbed = scrubbed.replace(secret, MASK)
    return excerpt(scrubbed, limit) if limit else scrubbed


def scrub_fields(fields: Iterable[tuple[str, str]], secrets: Iterable[str] = ()) -> str:
    """A form body as ``name=value`` lines, each value scrubbed."""
    wanted = list(secrets)
    return "&".join(f"{name}={scrub_text(value, wanted)}" for name, value in fields)


def _scrub_json_text(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_scrub(data), ensure_ascii=False)


def _scrub(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            key: MASK if key.lower() in _SENSITIVE_KEYS and value is not None else _scrub(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_scrub(item) for item in data]
    return data
