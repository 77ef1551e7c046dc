"""Run the Linnworks sandbox in the foreground: ``python -m sandbox.linnworks [--port-auth N ...]``."""

from __future__ import annotations

import argparse
import threading

from sandbox.linnworks.server import LinnworksSandbox


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox, print its URLs and credentials, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.linnworks", description=__doc__)
    parser.add_argument("--port-auth", type=int, default=0, help="auth host port (0 = free port)")
    parser.add_argument("--port-data", type=int, default=0, help="data host port (0 = free port)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0, help="60 = one-second rate-limit windows")
    parser.add_argument("--no-rate-limits", action="store_true")
    args = parser.parse_args(argv)
    sandbox = LinnworksSandbox(
        seed=args.seed,
        time_scale=args.time_scale,
        rate_limits=not args.no_rate_limits,
        auth_port=args.port_auth,
        data_port=args.port_data,
    )
    with sandbox:
        info = sandbox.info()
        print("Linnworks sandbox running (Ctrl-C to stop)", flush=True)
        for key, value in info.items():
            print(f"  {key:<20} {value}", flush=True)
        print(f"  {'admin':<20} {sandbox.data_url}/_admin/info", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
