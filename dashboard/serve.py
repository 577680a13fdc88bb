"""Start the workshop dashboard, offline: ``python -m dashboard.serve [--port N] [--host 127.0.0.1] [--open]``.

Builds the page's opening view (dashboard.live.warm_up), then runs ``streamlit run dashboard/app.py`` in this
process with the settings that keep it offline and quiet:
no usage statistics, no file watcher, production (not development) front end, listening on the
loopback address by default.  The same settings are in ``.streamlit/config.toml`` at the repository
root (read when Streamlit is started from there); here they are passed as command-line flags so they
apply from any folder.  tests/test_dashboard.py checks that the two agree.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501

# Keep in sync with .streamlit/config.toml.
SETTINGS: dict[str, object] = {
    "global.developmentMode": False,        # serve the front end bundled in the wheel, not a dev server
    # Page elements are always sent whole, never as a reference to the browser's cache of earlier ones: during Play
    # the browser can drop a cached element the server still refers to, and the page then stops with "Connection
    # error: Cached ForwardMsg MISS" (seen once in a random-click run of tests/test_dashboard_e2e.py). On the
    # loopback the few kB re-sent cost nothing.
    "global.minCachedMessageSize": 1e15,
    # Widgets drawn from a kept value get it both as their default and through session state (dashboard/page_state.py
    # kept says why); Streamlit would log that as a duplication once per server.
    "global.disableWidgetStateDuplicationWarning": True,
    "server.headless": True,                # no browser launch, no e-mail prompt
    "server.address": DEFAULT_HOST,         # loopback only; set manually, so no external-IP lookup either
    "server.port": DEFAULT_PORT,
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "server.showEmailPrompt": False,
    "browser.gatherUsageStats": False,      # no telemetry
    "client.toolbarMode": "minimal",        # no Deploy button or English-only developer menu
    "runner.magicEnabled": False,           # the page writes nothing by "magic": skip rewriting its code per run
    "runner.postScriptGC": False,           # no full garbage collection after every page run (half its time)
}
ENV = {"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lan_address() -> str:
    """This machine's address on the local network (no packet is sent), for the URL shown to participants."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def settings(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, open_browser: bool = False) -> dict[str, object]:
    """The Streamlit settings for one launch."""
    out = dict(SETTINGS)
    out["server.port"] = int(port)
    out["server.address"] = host
    if host in WILDCARD_HOSTS:
        # Listening on every interface (participants' devices on the room's network): name the address
        # to show, so that Streamlit does not look up this machine's public address on the internet.
        out["browser.serverAddress"] = _lan_address()
    if open_browser:
        out["server.headless"] = False
    return out


def streamlit_args(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, open_browser: bool = False) -> list[str]:
    """Arguments of ``streamlit`` (after the program name): ``run <app.py> --key value …``."""
    args = ["run", str(APP)]
    for key, value in settings(port, host, open_browser).items():
        args += [f"--{key}", _flag_value(value)]
    return args


def command(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, open_browser: bool = False) -> list[str]:
    """The equivalent shell command (``python -m streamlit run …``)."""
    return [sys.executable, "-m", "streamlit", *streamlit_args(port, host, open_browser)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dashboard.serve",
                                     description="Start the five-society dashboard (offline) in a browser.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 = every network interface)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port {args.port} is out of range: allowed 1–65535")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.update(ENV)
    from streamlit.web import cli

    from dashboard.live import warm_up

    warm_up()  # before the server listens: the health probe answers once the first page is quick

    cli.main(args=streamlit_args(args.port, args.host, args.open), prog_name="streamlit")


if __name__ == "__main__":
    main()
