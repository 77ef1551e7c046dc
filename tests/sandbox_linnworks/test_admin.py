"""The sandbox's admin API (HTTP and in-process), seeding determinism, and the sandbox stack."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.linnworks import ZERO_GUID, LinnworksSandbox
from sandbox.stack import SandboxStack
from tests.sandbox_linnworks.conftest import Api, FakeClock


def admin(lw: LinnworksSandbox, http: httpx.Client, verb: str, path: str, body: Any = None) -> Any:
    reply = http.request(verb, f"{lw.data_url}/_admin/{path}", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def snapshot(lw: LinnworksSandbox) -> tuple[Any, ...]:
    return lw.info(), lw.stock_items(), lw.postal_services(), lw.orders()


def test_same_seed_same_data(clock: FakeClock) -> None:
    """Two sandboxes with one seed and the same admin calls hold identical data, ids included."""
    snapshots = []
    for seed in (5, 5, 6):
        with LinnworksSandbox(seed=seed, clock=clock) as lw:
            lw.create_orders(10, paid=None, parked=None, locked=None, composite=None)
            snapshots.append(snapshot(lw)[1:])
    assert snapshots[0] == snapshots[1]
    assert snapshots[2] != snapshots[0]


def test_default_seed_contents(lw: LinnworksSandbox) -> None:
    """The default account has the Default location, 20 stock items, postal services and no orders."""
    assert len(lw.stock_items()) == 20
    assert {"Royal Mail 1st Class", "DPD Next Day", "Standard"} <= {
        s["PostalServiceName"] for s in lw.postal_services()
    }
    assert any(item["IsCompositeParent"] for item in lw.stock_items())
    assert lw.orders() == []


def test_order_state_mix_is_covered(lw: LinnworksSandbox) -> None:
    """A mixed batch contains paid, unpaid, parked, locked and composite orders."""
    lw.create_orders(80, paid=None, parked=None, locked=None, composite=None)
    orders = lw.orders()
    assert {o["GeneralInfo"]["Status"] for o in orders} == {0, 1}
    assert any(o["GeneralInfo"]["IsParked"] for o in orders)
    assert any(o["_Locked"] for o in orders)
    assert any(line["CompositeSubItems"] for o in orders for line in o["Items"])
    assert len({o["ShippingInfo"]["PostalServiceName"] for o in orders}) > 1


def test_admin_http_seeding_and_inspection(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """Over HTTP: add a location and item, create orders there, inspect them, update one, reset."""
    location = admin(lw, http, "POST", "locations", {"LocationName": "FC", "IsFulfillmentCenter": True})
    fc = location["StockLocationId"]
    admin(lw, http, "POST", "stock-items", {"sku": "NEW-1", "title": "New", "levels": {fc: 9}})
    created = admin(
        lw,
        http,
        "POST",
        "orders",
        {
            "count": 2,
            "location_id": fc,
            "identifiers": ["AMAZON_PRIME"],
            "lines": [{"sku": "NEW-1", "quantity": 1}],
        },
    )
    ids = created["OrderIds"]
    listed = admin(lw, http, "GET", f"orders?location_id={fc}&state=open")
    assert [o["OrderId"] for o in listed] == ids
    assert listed[0]["_Tags"] == ["AMAZON_PRIME"]
    updated = admin(lw, http, "POST", f"orders/{ids[0]}", {"locked": True, "parked": True})
    assert updated["_Locked"] is True and updated["GeneralInfo"]["Marker"] == 7
    assert admin(lw, http, "GET", "identifiers")[0]["Tag"] == "AMAZON_PRIME"
    info = admin(lw, http, "POST", "reset", {})
    assert info["application_id"] == lw.application_id
    assert admin(lw, http, "GET", "orders") == []


def test_admin_request_log_and_counters(api: Api, http: httpx.Client) -> None:
    """The request log records method, params and status; counters count calls per method; both clear."""
    api.call("Orders/GetOrdersById", pkOrderIds=[])
    api.call("Orders/GetOrdersById", pkOrderIdz=[])
    log = admin(api.lw, http, "GET", "requests?method=Orders/GetOrdersById")
    assert [(c["status"], list(c["params"])) for c in log] == [(200, ["pkOrderIds"]), (400, ["pkOrderIdz"])]
    counters = admin(api.lw, http, "GET", "counters")
    assert counters["Orders/GetOrdersById"] == 2 and counters["Auth/AuthorizeByApplication"] == 1
    admin(api.lw, http, "DELETE", "requests")
    assert admin(api.lw, http, "GET", "counters") == {}


def test_request_log_hides_credentials(api: Api) -> None:
    """The auth call is logged without the application secret."""
    (auth,) = api.lw.requests("Auth/AuthorizeByApplication")
    assert api.lw.application_secret not in str(auth)


def test_admin_faults_and_settings(api: Api, http: httpx.Client) -> None:
    """Faults and settings can be set, listed and cleared over HTTP."""
    rule = admin(
        api.lw, http, "POST", "faults", {"kind": "server_error", "method": "Inventory/GetStockLocations"}
    )
    assert rule["kind"] == "server_error"
    assert api.call("Inventory/GetStockLocations").status_code == 503
    admin(api.lw, http, "DELETE", "faults")
    assert admin(api.lw, http, "GET", "faults") == []
    settings = admin(api.lw, http, "POST", "settings", {"time_scale": 60, "rate_limits": False})
    assert settings["time_scale"] == 60 and settings["rate_limits"] is False
    assert admin(api.lw, http, "POST", "sessions/revoke", {}) == {"revoked": 1}
    assert api.call("Inventory/GetStockLocations").status_code == 401


def test_admin_errors_are_reported(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """Bad admin input answers 400 with the reason; unknown admin paths 404."""
    reply = http.post(f"{lw.data_url}/_admin/orders", json={"count": 1, "location_id": "nope"})
    assert reply.status_code == 400 and "nope" in reply.json()["error"]
    assert http.get(f"{lw.data_url}/_admin/nothing").status_code == 404


def test_stack_env_points_at_the_sandbox(http: httpx.Client) -> None:
    """SandboxStack.env() names settings that authenticate against the running Linnworks sandbox."""
    with SandboxStack(seed=2, only=["linnworks"]) as stack:
        env = stack.env()
        reply = http.post(
            env["LINNWORKS_AUTH_URL"] + "/api/Auth/AuthorizeByApplication",
            data={
                "ApplicationId": env["LINNWORKS_APPLICATION_ID"],
                "ApplicationSecret": env["LINNWORKS_APPLICATION_SECRET"],
                "Token": env["LINNWORKS_INSTALLATION_TOKEN"],
            },
        )
        assert reply.status_code == 200
        assert reply.json()["Server"] == stack.linnworks.data_url
        assert stack.linnworks.data_url in stack.describe()
        assert stack.linnworks.stock_level("SKU-0020", ZERO_GUID) > 0


def test_auth_failure_status_is_configurable(lw: LinnworksSandbox, http: httpx.Client) -> None:
    """Bad credentials answer 401 by default and the configured status when changed."""
    lw.configure(auth_failure_status=400)
    reply = http.post(lw.auth_url + "/api/Auth/AuthorizeByApplication", data={"ApplicationId": ZERO_GUID})
    assert reply.status_code == 400


def test_a_sandbox_never_started_can_be_stopped() -> None:
    """stop() on a sandbox that never served releases its ports instead of hanging."""
    sandbox = LinnworksSandbox(seed=1)
    sandbox.stop()
    assert sandbox.requests() == []


def test_catalogue_option_replaces_the_built_in_items(lw: LinnworksSandbox, clock: FakeClock) -> None:
    """A given catalogue becomes the stock items (with levels as given), plus two composite bundles."""
    catalogue = [{"sku": f"SKU-{i}", "title": f"Item {i}", "level": i} for i in range(1, 6)]
    with LinnworksSandbox(seed=1, clock=clock, catalogue=catalogue) as custom:
        items = custom.stock_items()
        assert [i["SKU"] for i in items] == [
            "SKU-1",
            "SKU-2",
            "SKU-3",
            "SKU-4",
            "SKU-5",
            "BUNDLE-1",
            "BUNDLE-2",
        ]
        assert custom.stock_level("SKU-3") == 3
        custom.create_orders(3, composite=True)


def test_foreground_runner_prints_working_urls(http: httpx.Client) -> None:
    """``python -m sandbox.linnworks`` prints URLs and credentials that work, and stops on SIGTERM."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.linnworks", "--seed", "3", "--no-rate-limits"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        info = dict(line.split(None, 1) for line in lines[1:] if line.strip())
        creds = {
            "ApplicationId": info["application_id"].strip(),
            "ApplicationSecret": info["application_secret"].strip(),
            "Token": info["installation_token"].strip(),
        }
        reply = http.post(info["auth_url"].strip() + "/api/Auth/AuthorizeByApplication", data=creds)
        assert reply.status_code == 200
        assert reply.json()["Server"] == info["data_url"].strip()
    finally:
        process.terminate()
        process.communicate(timeout=10)
