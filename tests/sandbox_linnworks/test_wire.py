"""Wire behaviour of the Linnworks sandbox over real HTTP: auth, sessions, binding, errors, quotas."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.linnworks import ZERO_GUID, LinnworksSandbox
from tests.sandbox_linnworks.conftest import Api, FakeClock

AUTH = "/api/Auth/AuthorizeByApplication"


@pytest.mark.parametrize(
    "encoding",
    ["form-wrapped", "form-flat", "form-flat-lowercase", "json-unwrapped", "json-wrapped", "query-flat"],
)
def test_auth_accepts_every_encoding(lw: LinnworksSandbox, http: httpx.Client, encoding: str) -> None:
    """AuthorizeByApplication answers a session with Token and Server for each encoding clients use."""
    creds = Api(lw, http).credentials()
    url = lw.auth_url + AUTH
    if encoding == "form-wrapped":
        reply = http.post(url, data={"request": json.dumps(creds)})
    elif encoding == "form-flat":
        reply = http.post(url, data=creds)
    elif encoding == "form-flat-lowercase":
        reply = http.post(url, data={k[0].lower() + k[1:]: v for k, v in creds.items()})
    elif encoding == "json-unwrapped":
        reply = http.post(url, json=creds)
    elif encoding == "json-wrapped":
        reply = http.post(url, json={"request": creds})
    else:
        reply = http.post(url, params=creds, content=b"", headers={"Content-Length": "0"})
    assert reply.status_code == 200, reply.text
    session = reply.json()
    assert session["Server"] == lw.data_url
    assert session["Token"] in lw.sessions()


def test_auth_rejects_wrong_secret(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """A wrong application secret gets 401 with a Linnworks error body and no session."""
    creds = {**Api(lw, http).credentials(), "ApplicationSecret": ZERO_GUID}
    reply = http.post(lw.auth_url + AUTH, data=creds)
    assert reply.status_code == 401
    assert reply.json()["Message"]
    assert lw.sessions() == []


def test_auth_host_serves_only_auth(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """Data methods are not found on the auth host, and auth is not found on the data host."""
    assert http.post(lw.auth_url + "/api/Orders/GetOrdersById").status_code == 404
    assert http.post(lw.data_url + AUTH, data={"a": "b"}).status_code == 404


@pytest.mark.parametrize("header", [None, "not-a-session", "Bearer {token}"])
def test_bad_authorization_is_401(api: Api, header: str | None) -> None:
    """Missing, unknown and Bearer-prefixed tokens are refused with 401."""
    headers = {} if header is None else {"Authorization": header.format(token=api.token)}
    reply = api.client.get(api.lw.data_url + "/api/Inventory/GetStockLocations", headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"Message": "Authorization has been denied for this request."}


def test_session_expires_after_idle_time(api: Api, clock: FakeClock) -> None:
    """A session idle for more than 20 minutes stops working; use within 20 minutes keeps it alive."""
    for _ in range(3):
        clock.advance(19 * 60)
        assert api.call("Inventory/GetStockLocations").status_code == 200
    clock.advance(20 * 60 + 1)
    assert api.call("Inventory/GetStockLocations").status_code == 401


def test_time_scale_shortens_session_life(clock: FakeClock, http: httpx.Client) -> None:
    """With time_scale=60 a session expires after 20 idle seconds."""
    with LinnworksSandbox(seed=1, clock=clock, time_scale=60) as lw:
        api = Api(lw, http)
        api.login()
        clock.advance(19)
        assert api.call("Inventory/GetStockLocations").status_code == 200
        clock.advance(21)
        assert api.call("Inventory/GetStockLocations").status_code == 401


@pytest.mark.parametrize("encoding", ["form", "json", "query"])
def test_parameters_bind_from_every_encoding(api: Api, encoding: str) -> None:
    """GetOrdersById binds pkOrderIds from a form body, a JSON body and the query string alike."""
    ids = api.lw.create_orders(2)
    reply = api.call("Orders/GetOrdersById", encoding=encoding, pkOrderIds=ids)
    assert reply.status_code == 200, reply.text
    assert [order["OrderId"] for order in reply.json()] == ids


def test_parameter_names_and_paths_are_case_insensitive(api: Api) -> None:
    """Parameter names and the method path match in any case, like ASP.NET on IIS."""
    order_id = api.lw.create_orders(1)[0]
    reply = api.call("orders/getorderbyid", verb="GET", PKORDERID=order_id.upper())
    assert reply.status_code == 200, reply.text
    assert reply.json()["OrderId"] == order_id


def test_get_and_post_both_work(api: Api) -> None:
    """A method the spec lists as GET also answers POST with a form body, and vice versa."""
    assert api.call("Inventory/GetStockLocations", verb="POST").status_code == 200
    assert api.call("Orders/GetAllOpenOrders", verb="GET", fulfilmentCenter=ZERO_GUID).status_code == 200


def test_unknown_parameter_is_rejected_with_a_precise_reason(api: Api) -> None:
    """A misspelt parameter gets 400 "The request is invalid." and the log names the declared ones."""
    reply = api.call("Orders/GetOrdersById", pkOrderIdz=[])
    assert reply.status_code == 400
    assert reply.json() == {"Message": "The request is invalid."}
    last = api.lw.requests("Orders/GetOrdersById")[-1]
    assert last["reason"] == "unknown parameter 'pkOrderIdz' for Orders/GetOrdersById; declared: pkOrderIds"


def test_misspelt_property_inside_an_object_is_rejected(api: Api) -> None:
    """An unknown property inside a JSON object parameter fails even though .NET would ignore it."""
    order_id = api.lw.create_orders(1)[0]
    reply = api.call("Orders/SetOrderShippingInfo", orderId=order_id, info={"TrackingNumbr": "X"})
    assert reply.status_code == 400
    assert "unknown property 'TrackingNumbr' in UpdateOrderShippingInfoRequest" in str(
        api.lw.requests("Orders/SetOrderShippingInfo")[-1]["reason"]
    )


def test_missing_required_parameter_is_invalid(api: Api) -> None:
    """Leaving out a non-nullable GUID parameter is a binding failure (400)."""
    reply = api.call("Orders/GetOrderById", verb="GET")
    assert reply.status_code == 400
    assert reply.json() == {"Message": "The request is invalid."}


@pytest.mark.parametrize(
    ("params", "ok"),
    [
        ({"scanPerformed": "TRUE"}, True),
        ({"scanPerformed": "false"}, True),
        ({"scanPerformed": "yes"}, False),
        ({"scanPerformed": "true", "locationId": ""}, True),
        ({"scanPerformed": "true", "locationId": "nope"}, False),
        ({"scanPerformed": "true", "context": "{not json"}, False),
    ],
)
def test_values_must_decode_to_declared_types(api: Api, params: dict[str, str], ok: bool) -> None:
    """Booleans parse case-insensitively, empty GUIDs are null, bad GUIDs and bad JSON are invalid."""
    order_id = api.lw.create_orders(1)[0]
    reply = api.call("Orders/ProcessOrder", orderId=order_id, **params)
    assert (reply.status_code == 200) is ok, reply.text


def test_business_errors_use_the_code_message_body(api: Api) -> None:
    """A rule violation answers 400 with {"Code": "-", "Message": ...} (an unknown order is 400 too)."""
    reply = api.call("Orders/GetExtendedProperties", verb="GET", orderId=ZERO_GUID)
    assert reply.status_code == 400
    assert reply.json()["Code"] == "-"


def test_void_methods_answer_204(api: Api) -> None:
    """SetOrderNotes is void in the spec and answers 204 with no body."""
    order_id = api.lw.create_orders(1)[0]
    reply = api.call("Orders/SetOrderNotes", orderId=order_id, orderNotes=[])
    assert reply.status_code == 204
    assert reply.content == b""


def test_unknown_path_is_404(api: Api) -> None:
    """A path that is not a Linnworks method (or lacks /api) is 404."""
    assert api.call("Orders/NoSuchMethod").status_code == 404
    assert api.client.post(api.lw.data_url + "/Orders/GetOrdersById").status_code == 404


def test_post_without_content_length_is_411(api: Api) -> None:
    """A body-less POST without Content-Length gets 411 Length Required."""
    request = api.client.build_request("POST", api.lw.data_url + "/api/Inventory/GetStockLocations")
    del request.headers["Content-Length"]
    request.headers["Authorization"] = str(api.token)
    assert api.client.send(request).status_code == 411


def test_json_content_type_with_form_body_is_invalid(api: Api) -> None:
    """A JSON content type with a form-looking body is a 400, as reported against the real API."""
    reply = api.client.post(
        api.lw.data_url + "/api/Orders/GetOrdersById",
        content=b"pkOrderIds=[]",
        headers={"Authorization": str(api.token), "Content-Type": "application/json"},
    )
    assert reply.status_code == 400


def test_rate_limit_answers_429_with_retry_after(clock: FakeClock, http: httpx.Client) -> None:
    """Past the quota: 429, the quota message and Retry-After; the next window admits calls again."""
    with LinnworksSandbox(seed=1, clock=clock, time_scale=60) as lw:
        api = Api(lw, http)
        api.login()
        for _ in range(150):
            assert api.call("Inventory/GetStockLocations").status_code == 200
        refused = api.call("Inventory/GetStockLocations")
        assert refused.status_code == 429
        assert refused.json() == {"Message": "API calls quota exceeded! Maximum admitted 150 per Minute."}
        assert refused.headers["Retry-After"] == "1"
        assert api.call("Orders/GetAllOpenOrders", fulfilmentCenter=ZERO_GUID).status_code == 200
        clock.advance(1.0)
        assert api.call("Inventory/GetStockLocations").status_code == 200


def test_rate_limits_can_be_switched_off(clock: FakeClock, http: httpx.Client) -> None:
    """With rate_limits=False no quota applies."""
    with LinnworksSandbox(seed=1, clock=clock, rate_limits=False) as lw:
        api = Api(lw, http)
        api.login()
        statuses = {api.call("Inventory/GetStockLocations").status_code for _ in range(160)}
        assert statuses == {200}


def test_strict_wrapper_refuses_unwrapped_request(api: Api) -> None:
    """With the strict-wrapper switch an unwrapped single-request body is refused, as some endpoints do."""
    order_id = api.lw.create_orders(1)[0]
    body = {"OrderIds": [order_id], "Tag": "AMAZON_PRIME"}
    assert api.call("OpenOrders/AssignOrderIdentifier", encoding="json", **body).status_code == 200
    api.lw.configure(strict_wrapper=["OpenOrders/UnassignOrderIdentifier"])
    assert api.call("OpenOrders/UnassignOrderIdentifier", encoding="json", **body).status_code == 400
    assert api.call("OpenOrders/UnassignOrderIdentifier", encoding="json", request=body).status_code == 200


def test_single_request_method_without_request_is_refused(api: Api) -> None:
    """A single-request method called with no parameters answers 400 "request is empty"."""
    reply = api.call("OpenOrders/AssignOrderIdentifier")
    assert reply.status_code == 400
    assert reply.json() == {"Message": "request is empty"}


def test_malformed_credentials_stay_out_of_the_log(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """A malformed secret is refused as invalid, and neither the log params nor the reason contain it."""
    secret = "not-a-guid-secret-value"
    reply = http.post(
        lw.auth_url + AUTH,
        data={
            "ApplicationId": lw.application_id,
            "ApplicationSecret": secret,
            "Token": lw.installation_token,
        },
    )
    assert reply.status_code == 400
    (call,) = lw.requests("Auth/AuthorizeByApplication")
    assert secret not in json.dumps(call)
    assert "ApplicationSecret" in str(call["reason"])


def test_non_ascii_values_in_errors_do_not_break_the_reply(api: Api) -> None:
    """An error whose reason quotes non-ASCII input still answers cleanly (header-safe reason)."""
    reply = api.call(
        "Stock/SetStockLevel", stockLevels=[{"SKU": "CAFÉ-☕", "LocationId": ZERO_GUID, "Level": 1}]
    )
    assert reply.status_code == 400
    assert reply.json()["Code"] == "-"
    bad_enum = api.call("Orders/GetAllOpenOrders", fulfilmentCenter=ZERO_GUID, sorting=[{"FieldCode": "ÿ"}])
    assert bad_enum.status_code == 400
