"""Session handling: authentication request, data host, raw token, proactive refresh, one re-auth on 401."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from clients.errors import AuthenticationError, MalformedResponseError, StopError
from clients.linnworks import LinnworksClient, NoPacer, RetryPolicy

from .fakes import (
    APP_ID,
    AUTH_URL,
    CANARY_SECRET,
    INSTALL_TOKEN,
    SERVER,
    FakeClock,
    FakeLinnworks,
    make_client,
    reply,
)


def test_authenticates_form_encoded_like_the_sdk() -> None:
    """Auth is a form POST with one ``request`` field: ApplicationId, ApplicationSecret, Token as JSON."""
    fake = FakeLinnworks()
    make_client(fake).get_stock_locations()
    auth = fake.auth_calls()[0]
    assert auth.method == "POST"
    assert auth.content_type is not None and auth.content_type.startswith("application/x-www-form-urlencoded")
    assert list(auth.fields) == ["request"]
    assert json.loads(auth.fields["request"]) == {
        "ApplicationId": APP_ID,
        "ApplicationSecret": CANARY_SECRET,
        "Token": INSTALL_TOKEN,
    }
    assert auth.authorization is None


def test_data_calls_go_to_server_with_raw_token() -> None:
    """Data calls use the session's Server host and the bare token in Authorization (no Bearer)."""
    fake = FakeLinnworks()
    make_client(fake).get_stock_locations()
    call = fake.data_calls()[0]
    assert str(call.raw.url).startswith(f"{SERVER}/api/Inventory/GetStockLocations")
    assert call.authorization == fake.tokens[0]


def test_session_is_reused_while_in_use() -> None:
    """Calls closer together than the idle expiry share one session."""
    fake, clock = FakeLinnworks(), FakeClock()
    client = make_client(fake, clock)
    for _ in range(5):
        client.get_stock_locations()
        clock.advance(17 * 60)
    assert len(fake.auth_calls()) == 1


def test_session_refreshed_before_idle_expiry() -> None:
    """After nearly 20 idle minutes the client re-authenticates before calling, so no 401 is met."""
    fake, clock = FakeLinnworks(), FakeClock()
    client = make_client(fake, clock)
    client.get_stock_locations()
    clock.advance(19 * 60)
    client.get_stock_locations()
    assert len(fake.auth_calls()) == 2
    assert fake.data_calls()[1].authorization == fake.tokens[1]


def test_time_scale_shortens_the_refresh() -> None:
    """With time_scale=60 a sandbox minute is one second, and the session refresh scales with it."""
    fake, clock = FakeLinnworks(), FakeClock()
    client = LinnworksClient(
        APP_ID,
        SecretStr(CANARY_SECRET),
        SecretStr(INSTALL_TOKEN),
        auth_url=AUTH_URL,
        transport=__import__("httpx").MockTransport(fake.handler),
        pacer=NoPacer(),
        clock=clock,
        sleep=clock.sleep,
        time_scale=60,
    )
    client.get_stock_locations()
    clock.advance(19)
    client.get_stock_locations()
    assert len(fake.auth_calls()) == 2


def test_revoked_token_reauthenticates_once_and_repeats() -> None:
    """A 401 mid-session gets one new session and the same call repeated with the new token."""
    fake = FakeLinnworks()
    client = make_client(fake)
    client.get_stock_locations()
    fake.revoked.add(fake.tokens[0])
    client.get_stock_locations()
    assert len(fake.auth_calls()) == 2
    assert [c.authorization for c in fake.data_calls()] == [fake.tokens[0], fake.tokens[0], fake.tokens[1]]


def test_bad_credentials_name_the_settings_and_hide_the_secret() -> None:
    """Rejected credentials raise AuthenticationError naming the three settings, never echoing a secret."""
    fake = FakeLinnworks()
    client = make_client(fake, secret="0badc0de-0000-4000-8000-000000000bad")
    with pytest.raises(AuthenticationError) as raised:
        client.get_stock_locations()
    text = str(raised.value)
    for setting in (
        "LINNWORKS_APPLICATION_ID",
        "LINNWORKS_APPLICATION_SECRET",
        "LINNWORKS_INSTALLATION_TOKEN",
    ):
        assert setting in text
    assert "0badc0de" not in text and INSTALL_TOKEN not in text
    assert fake.data_calls() == []


def test_non_guid_setting_is_named_before_any_call() -> None:
    """An application id that is not a GUID is reported by its setting name without calling Linnworks."""
    fake = FakeLinnworks()
    with pytest.raises(AuthenticationError, match="LINNWORKS_APPLICATION_ID is not set to a GUID"):
        make_client(fake, app_id="my-app").get_stock_locations()
    assert fake.seen == []


def test_auth_reply_without_server_is_malformed() -> None:
    """An auth reply lacking Token/Server is a MalformedResponseError naming the endpoint."""
    fake = FakeLinnworks()
    fake.auth_script.append(reply(200, {"Token": "x"}))
    with pytest.raises(MalformedResponseError, match="AuthorizeByApplication"):
        make_client(fake).get_stock_locations()


def test_wrong_auth_url_is_a_stop_error() -> None:
    """A 404 from the auth host means LINNWORKS_AUTH_URL is wrong."""
    fake = FakeLinnworks()
    fake.auth_script.append(reply(404, text="Not Found"))
    with pytest.raises(StopError, match="LINNWORKS_AUTH_URL"):
        make_client(fake).get_stock_locations()


def test_auth_5xx_is_retried() -> None:
    """A transient failure of the auth call is retried like a read."""
    fake = FakeLinnworks()
    fake.auth_script.append(reply(503, text="busy"))
    make_client(fake, retry=RetryPolicy.no_wait()).get_stock_locations()
    assert len(fake.auth_calls()) == 2


def test_threads_share_one_session() -> None:
    """Calls from a thread pool open exactly one session and all succeed."""
    from concurrent.futures import ThreadPoolExecutor

    fake = FakeLinnworks()
    client = make_client(fake)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.get_stock_locations(), range(40)))
    assert len(results) == 40
    assert len(fake.auth_calls()) == 1
    assert {call.authorization for call in fake.data_calls()} == {fake.tokens[0]}
