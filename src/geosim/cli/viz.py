"""`geosim viz`: serve the browser page (geosim.viz.app) with Solara on this machine.

Owns the server's command line, its offline settings and a clean stop on Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

APP_MODULE = "geosim.viz.app"
SCENARIO_ENV = "GEOSIM_VIZ_SCENARIO"

# Solara settings that keep the page offline: every asset comes from the installed
# solara-assets package; a missing one fails against a closed local port instead of being
# fetched from a CDN; no telemetry.
OFFLINE_ENV = {
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/no-cdn/",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "geosim",
    "MPLBACKEND": "Agg",
}
# Solara warns on every page load served to 127.0.0.1 over http that its session cookie falls
# back to SameSite=lax: expected here, and noise in a teacher's terminal.
QUIET_WARNINGS = "ignore:Cookies with samesite=none require https:UserWarning"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `geosim viz`."""
    parser = subparsers.add_parser(
        "viz", help="open the interactive map and charts in a browser",
        description="Serve the classroom page: a live map of trade in the Americas, charts of "
                    "China and US trade shares, policy sliders. Open the printed URL in a "
                    "browser; Ctrl-C stops the server.",
    )
    parser.add_argument("--scenario", metavar="FILE",
                        help="scenario file (or shipped name) selected when the page opens")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    parser.set_defaults(handler=main)


def _port(text: str) -> int:
    from geosim.cli import port

    return port(text)


def server_command(host: str, port: int) -> list[str]:
    """The `solara run` command line for the page."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host,
            "--port", str(port), "--production", "--no-check-version", "--no-open"]


def server_env(scenario: str | None) -> dict[str, str]:
    """The server's environment: ours plus the offline settings and the chosen scenario."""
    env = {**os.environ, **OFFLINE_ENV}
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), QUIET_WARNINGS]))
    if scenario:
        env[SCENARIO_ENV] = scenario
    return env


def main(args: argparse.Namespace) -> int:
    """Check the scenario, start the server and wait; Ctrl-C (or SIGTERM) stops it cleanly."""
    from geosim.cli import UserError

    scenario = None
    if args.scenario:
        from geosim.scenario import ScenarioError, load_scenario, scenario_dir

        try:
            loaded = load_scenario(args.scenario)
        except ScenarioError as exc:
            raise UserError(str(exc)) from None
        shipped = scenario_dir() / f"{loaded.name}.yaml"
        # A shipped scenario goes by its name (as in the page's picker), any other by its path.
        scenario = (loaded.name if shipped.is_file() and shipped.samefile(loaded.path)
                    else str(loaded.path.resolve()))
    if not 0 < args.port < 65536:
        raise UserError(f"--port: expected a port number between 1 and 65535, got {args.port}")
    try:
        import mesa.visualization  # noqa: F401  (solara, and what Mesa's viz imports)
    except ImportError as exc:
        raise UserError(f"geosim viz needs the visualization extra (missing: {exc.name}); "
                        "install it with: pip install -e '.[viz]'") from None

    address = check_address(args.host, args.port)  # before starting anything
    url = f"http://{args.host}:{args.port}/"
    # Its own session: a Ctrl-C in the terminal reaches this process only, which stops the
    # server with SIGTERM (a clean shutdown, no traceback from the child).
    server = subprocess.Popen(server_command(args.host, args.port), env=server_env(scenario),
                              cwd=Path.cwd(), start_new_session=True)
    # SIGTERM, and SIGHUP when the terminal closes (the server, in its own session, would not
    # get it), stop the server as Ctrl-C does.
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM,
                                                                       signal.SIGHUP)}
    try:
        if _wait_listening(server, address):
            print(f"geosim viz: serving {url}  (Ctrl-C to stop)", flush=True)
        code = server.wait()
    except KeyboardInterrupt:
        _stop(server)  # whatever its exit code, the server was asked to stop: a clean stop
        print("geosim viz: stopped", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code != 0:
        raise UserError(f"the Solara server exited with code {code} (its messages are above)")
    return 0


def check_address(host: str, port: int) -> tuple:
    """Resolve `host` and check that `port` is free there; return the socket address.

    Raises:
        UserError: the host does not resolve, is not an address of this machine, or the port is
            taken (each named as such).
    """
    from geosim.cli import UserError
    from geosim.inputs import shorten

    shown = shorten(host, 100)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UserError(f"--host {shown}: cannot resolve this address ({reason})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"--port {port}: already in use on {shown}; stop what uses it "
                                "or choose another port with --port") from None
            raise UserError(f"--host {shown}: cannot listen there ({exc.strerror or exc}); "
                            "give an address of this machine, e.g. 127.0.0.1") from None
    return address


def _wait_listening(server: subprocess.Popen, address: tuple, poll: float = 0.2) -> bool:
    """Wait until the server accepts connections (True) or exits (False)."""
    while server.poll() is None:
        try:
            with socket.create_connection(address[:2], timeout=1.0):
                return True
        except OSError:
            time.sleep(poll)
    return False


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(server: subprocess.Popen, timeout: float = 10.0) -> int:
    """Stop the server: SIGTERM (uvicorn shuts down cleanly), then SIGKILL."""
    for send in (server.terminate, server.kill):
        if server.poll() is not None:
            break
        send()
        try:
            return server.wait(timeout)
        except subprocess.TimeoutExpired:
            continue
    return server.wait()
