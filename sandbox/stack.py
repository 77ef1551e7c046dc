"""Start every local sandbox together and hand out the settings that point lw3pl at them.

``lw3pl sandbox`` calls :func:`serve_forever`; tests and the demo use :class:`SandboxStack` directly::

    with SandboxStack(seed=1) as stack:
        os.environ.update(stack.env())
        print(stack.describe())

Each sandbox joins the stack through a *starter* in ``STARTERS``: a function that starts it and returns a
:class:`RunningSandbox` (its environment settings, a description for people, and how to stop it).
"""

from __future__ import annotations

import argparse
import json
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from sandbox.linnworks import LinnworksSandbox
from sandbox.sftp import SftpSandbox
from sandbox.shipbob import VERSION, ShipBobSandbox
from sandbox.warehouse import Warehouse, WarehouseConfig

__all__ = [
    "ADMIN_URL_VARIABLE",
    "FULFILMENT_CENTRE",
    "STARTERS",
    "RunningSandbox",
    "SandboxStack",
    "StackOptions",
    "add_orders",
    "add_sandbox_arguments",
    "serve_forever",
]

FULFILMENT_CENTRE = "3PL Warehouse"
"""The location the sandbox's orders are placed at: lw3pl's default FULFILMENT_CENTRE_NAME."""

ADMIN_URL_VARIABLE = "LW3PL_SANDBOX_ADMIN_URL"
"""Where ``lw3pl sandbox add-orders`` finds the running Linnworks sandbox's admin API (printed at start)."""

# What a person needs besides the partners' URLs and credentials: every sandbox order's service maps to
# ShipBob's "Standard" (without a map every order would be quarantined), and the adapter in use.
PERSON_EXPORTS = {"THREEPL_ADAPTER": "shipbob", "SHIPPING_SERVICE_MAP": json.dumps({"*": "Standard"})}


@dataclass(frozen=True)
class StackOptions:
    """Settings every sandbox may honour."""

    seed: int = 0
    time_scale: float = 1.0
    rate_limits: bool = True


@dataclass
class RunningSandbox:
    """A started sandbox as the stack sees it."""

    name: str
    env: dict[str, str]
    description: str
    stop: Callable[[], None]
    handle: Any = field(default=None, repr=False)


def warehouse_catalogue(count: int = 20) -> list[dict[str, Any]]:
    """Linnworks stock items matching what ``Warehouse.seed_catalogue(count)`` stocks at the 3PLs."""
    return [
        {"sku": f"SKU-{index:04d}", "title": f"Item {index}", "barcode": f"50000000{index:05d}"}
        for index in range(1, count + 1)
    ]


def start_linnworks(options: StackOptions) -> RunningSandbox:
    """The Linnworks sandbox (auth + data host) whose stock items are the 3PL sandboxes' SKUs."""
    lw = LinnworksSandbox(
        seed=options.seed,
        time_scale=options.time_scale,
        rate_limits=options.rate_limits,
        catalogue=warehouse_catalogue(),
    )
    lw.start()
    env = {
        "LINNWORKS_AUTH_URL": lw.auth_url,
        "LINNWORKS_APPLICATION_ID": lw.application_id,
        "LINNWORKS_APPLICATION_SECRET": lw.application_secret,
        "LINNWORKS_INSTALLATION_TOKEN": lw.installation_token,
    }
    description = "\n".join(
        [
            "Linnworks",
            f"  auth host           {lw.auth_url}/api/Auth/AuthorizeByApplication",
            f"  data host           {lw.data_url}/api/<Controller>/<Method>",
            f"  admin               {lw.data_url}/_admin/info",
            f"  application id      {lw.application_id}",
            f"  application secret  {lw.application_secret}",
            f"  installation token  {lw.installation_token}",
            "  catalogue           SKU-0001 .. SKU-0020 (+ composites BUNDLE-1, BUNDLE-2)",
        ]
    )
    return RunningSandbox("linnworks", env, description, lw.stop, lw)


def start_sftp(options: StackOptions) -> RunningSandbox:
    """The SFTP warehouse: an SSH/SFTP server on loopback whose clerk works the folders every few seconds."""
    box = SftpSandbox(seed=options.seed, poll_interval_seconds=max(0.2, 2.0 / options.time_scale)).start()
    env = {
        "SFTP_HOST": box.host,
        "SFTP_PORT": str(box.port),
        "SFTP_USERNAME": box.username,
        "SFTP_PASSWORD": box.password,
        "SFTP_HOST_KEY": box.host_public_key,
    }
    description = "\n".join(
        [
            "SFTP warehouse (CSV file exchange, docs/adapters.md)",
            f"  sftp                sftp -P {box.port} {box.username}@{box.host}",
            f"  password            {box.password}",
            f"  host key            {box.host_public_key}",
            f"  root folder         {box.root}",
        ]
    )
    return RunningSandbox("sftp", env, description, box.stop, box)


def start_shipbob(options: StackOptions) -> RunningSandbox:
    """The ShipBob API (2026-01) over a seeded warehouse whose delays run ``time_scale`` times faster."""
    warehouse = Warehouse(seed=options.seed, config=WarehouseConfig().scaled(options.time_scale))
    warehouse.seed_catalogue(20)
    box = ShipBobSandbox(
        warehouse=warehouse, seed=options.seed, time_scale=options.time_scale, rate_limits=options.rate_limits
    ).start()
    env = {
        "SHIPBOB_API_URL": box.url,
        "SHIPBOB_API_VERSION": VERSION,  # the one version the sandbox serves
        "SHIPBOB_API_TOKEN": box.token,
        "SHIPBOB_CHANNEL_ID": str(box.channel_id),
    }
    description = "\n".join(
        [
            f"ShipBob ({VERSION} API)",
            f"  api                 {box.url}/{VERSION}/order",
            f"  token               {box.token}",
            f"  channel id          {box.channel_id}",
            "  catalogue           SKU-0001 .. SKU-0020",
            f"  warehouse admin     POST {box.url}/_admin/warehouse/hold|release|short_ship|pick",
        ]
    )
    return RunningSandbox("shipbob", env, description, box.stop, box)


# ------------------------------------------------------------------------------------------------
# The sandboxes the stack starts, in order. OWNERS OF OTHER SANDBOXES (ShipBob, SFTP): add
# ("name", start_function) here; start_function(options) -> RunningSandbox as start_linnworks does.
# ------------------------------------------------------------------------------------------------
STARTERS: list[tuple[str, Callable[[StackOptions], RunningSandbox]]] = [
    ("linnworks", start_linnworks),
    ("sftp", start_sftp),
    ("shipbob", start_shipbob),
]


class SandboxStack:
    """All sandboxes in ``STARTERS``, started and stopped together.

    Args:
        seed: Seeds every sandbox's data.
        time_scale: Speeds up time-based behaviour (quota windows, session expiry) where supported.
        rate_limits: Enforce the partners' rate limits.
        only: Start only these sandboxes (names from ``STARTERS``); default all.
    """

    def __init__(
        self, seed: int = 0, time_scale: float = 1.0, rate_limits: bool = True, only: list[str] | None = None
    ) -> None:
        self.options = StackOptions(seed=seed, time_scale=time_scale, rate_limits=rate_limits)
        self.only = only
        self.running: dict[str, RunningSandbox] = {}

    @property
    def linnworks(self) -> LinnworksSandbox:
        """The running Linnworks sandbox (for admin calls)."""
        handle = self.running["linnworks"].handle
        assert isinstance(handle, LinnworksSandbox)
        return handle

    def start(self) -> SandboxStack:
        try:
            for name, starter in STARTERS:
                if self.only is None or name in self.only:
                    self.running[name] = starter(self.options)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for running in reversed(list(self.running.values())):
            running.stop()
        self.running.clear()

    def __enter__(self) -> SandboxStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment settings (``LINNWORKS_AUTH_URL``, ...) pointing lw3pl at the running sandboxes."""
        merged: dict[str, str] = {}
        for running in self.running.values():
            merged.update(running.env)
        return merged

    def describe(self) -> str:
        """URLs and credentials of every running sandbox, and the export lines that point lw3pl at them."""
        blocks = [running.description for running in self.running.values()]
        variables = {**self.env(), **PERSON_EXPORTS}
        if "linnworks" in self.running:
            variables[ADMIN_URL_VARIABLE] = f"{self.linnworks.data_url}/_admin"
        if self.options.time_scale != 1.0:
            variables["PARTNER_TIME_SCALE"] = f"{self.options.time_scale:g}"
        exports = "\n".join(f"  export {key}={shlex.quote(value)}" for key, value in variables.items())
        return "\n\n".join([*blocks, "Environment (paste into the worker's shell):\n" + exports])

    def add_orders(self, count: int, location_name: str = FULFILMENT_CENTRE) -> list[str]:
        """``count`` paid open orders at ``location_name`` (created if missing, made a fulfilment centre)."""
        locations = self.linnworks.account.stock_locations()
        found = next((loc for loc in locations if loc["LocationName"] == location_name), None)
        location = found or self.linnworks.add_location(location_name, IsFulfillmentCenter=True)
        return self.linnworks.create_orders(count, str(location["StockLocationId"]))


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``lw3pl sandbox`` (shared by its own parser and the ``lw3pl`` command's help)."""
    parser.add_argument(
        "--orders", type=int, default=0, metavar="N",
        help=f"place N paid open orders at the '{FULFILMENT_CENTRE}' location at start (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--time-scale", type=float, default=60.0, metavar="X",
        help="run the partners' clocks X times faster (default 60: a ShipBob order ships in about a minute)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the sandbox data (default 0)"
    )
    parser.add_argument("--no-rate-limits", action="store_true", help="do not enforce the partners' limits")


def serve_forever(argv: list[str] | None = None) -> None:
    """Start the stack, print :meth:`SandboxStack.describe`, block until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="lw3pl sandbox", description="Run the local sandboxes.")
    add_sandbox_arguments(parser)
    args = parser.parse_args(argv)
    with SandboxStack(
        seed=args.seed, time_scale=args.time_scale, rate_limits=not args.no_rate_limits
    ) as stack:
        print(stack.describe(), flush=True)
        if args.orders:
            stack.add_orders(args.orders)
            print(f"\n{args.orders} orders placed at '{FULFILMENT_CENTRE}'.", flush=True)
        print("\nSandboxes running; more orders: lw3pl sandbox add-orders N. Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


def add_orders(admin_url: str, count: int, location_name: str = FULFILMENT_CENTRE) -> list[str]:
    """Place ``count`` paid open orders at ``location_name`` in a running sandbox, over its admin API."""
    locations = _admin(f"{admin_url}/locations")
    found = next((loc for loc in locations if loc["LocationName"] == location_name), None)
    if found is None:
        found = _admin(f"{admin_url}/locations", {"LocationName": location_name, "IsFulfillmentCenter": True})
    created = _admin(f"{admin_url}/orders", {"count": count, "location_id": found["StockLocationId"]})
    return [str(order_id) for order_id in created["OrderIds"]]


def _admin(url: str, body: dict[str, Any] | None = None) -> Any:
    """GET (no body) or POST one admin call; an error status raises with the sandbox's answer."""
    response = httpx.get(url, timeout=30) if body is None else httpx.post(url, json=body, timeout=30)
    response.raise_for_status()
    return response.json()
