"""`newscorpus studio serve`: a local Label Studio for annotators, from its own virtual environment.

The tests and benchmarks start their servers with `start_server` too, so every server we start
runs with the same settings: telemetry off, and legacy tokens on, which Label Studio 1.23 honours
only when its database is new (its organisation is created with the setting).
"""

from __future__ import annotations

import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..problems import CommandError

STUDIO_VENV = Path(__file__).resolve().parents[3] / ".venv-studio" / "bin" / "label-studio"
DATABASE = "label_studio.sqlite3"
# Label Studio reads each setting as LABEL_STUDIO_X, then HEARTEX_X, then X: ours go in as X and
# the prefixed spellings are removed, so a setting left in the caller's environment cannot win.
TELEMETRY_OFF = {"LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}
STARTUP_SECONDS = 600
TOKEN_PAGE = "click your initials at the top right -> Account & Settings -> Legacy Token -> Copy"


@dataclass(frozen=True)
class Account:
    """The first user of a new server. `token` sets its legacy token (tests); empty, Label Studio makes one."""

    username: str
    password: str
    token: str = ""


def label_studio_command() -> str:
    found = str(STUDIO_VENV) if STUDIO_VENV.exists() else shutil.which("label-studio")
    if not found:
        raise CommandError("Label Studio is not installed: run scripts/install-label-studio (it goes to .venv-studio/)")
    return found


def studio_environment(data_dir: Path, account: Account | None = None) -> dict[str, str]:
    """The server's environment: our data folder, no telemetry, legacy tokens on, and the first user."""
    prefixed = {prefix + key for key in TELEMETRY_OFF for prefix in ("LABEL_STUDIO_", "HEARTEX_")}
    env = {key: value for key, value in os.environ.items() if key not in prefixed}
    env.update(TELEMETRY_OFF, LABEL_STUDIO_BASE_DATA_DIR=str(data_dir), LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true")
    if account is not None:
        env.update(LABEL_STUDIO_USERNAME=account.username, LABEL_STUDIO_PASSWORD=account.password)
        if account.token:
            env["LABEL_STUDIO_USER_TOKEN"] = account.token
    return env


def ends_with_its_parent() -> None:
    """Run in the server's process before Label Studio starts: a killed serve or test run leaves no server behind."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start_server(data_dir: Path, port: int, account: Account | None = None) -> subprocess.Popen:
    """Label Studio on 127.0.0.1:port in a session of its own, its output in DATA_DIR/server.log."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = label_studio_command()
    with (data_dir / "server.log").open("ab") as log:
        return subprocess.Popen([command, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
                                env=studio_environment(data_dir, account), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=ends_with_its_parent)


def wait_until_up(server: subprocess.Popen, url: str, data_dir: Path, seconds: float = STARTUP_SECONDS) -> None:
    """Return once /health answers; a server that stops or never answers is a CommandError with its log's end."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log = (data_dir / "server.log").read_text(errors="replace")[-3000:]
            raise CommandError(f"Label Studio did not come up on {url}; the end of {data_dir / 'server.log'}:\n{log}")
        time.sleep(1)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def first_account() -> Account:
    """The first user, from LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD, else asked on the terminal."""
    username, password = os.environ.get("LABEL_STUDIO_USERNAME", ""), os.environ.get("LABEL_STUDIO_PASSWORD", "")
    if username and password:
        return Account(username, password)
    if not sys.stdin.isatty():
        raise CommandError("a new Label Studio needs its first user: set LABEL_STUDIO_USERNAME (an email) and LABEL_STUDIO_PASSWORD, "
                           "or run studio serve in a terminal to be asked")
    print("A new Label Studio: choose the email and password you will sign in with.", file=sys.stderr)
    while "@" not in username:
        username = input("email: ").strip()
    while True:
        password = getpass.getpass("password (8 characters or more): ")
        if len(password) >= 8 and getpass.getpass("the same password again: ") == password:
            return Account(username, password)
        print("the passwords differ or are shorter than 8 characters; again", file=sys.stderr)


def stopped(signum, frame):
    raise SystemExit(128 + signum)


def serve(port: int, data_dir: Path, say: Callable[[str], None]) -> None:
    """Start the server, say where to sign in and where the token is, and run until Ctrl-C."""
    data_dir = data_dir.expanduser().resolve()
    label_studio_command()
    if not port_is_free(port):
        raise CommandError(f"port {port} on 127.0.0.1 is in use (a Label Studio already running?): choose another with --port")
    account = first_account() if not (data_dir / DATABASE).exists() else None
    url = f"http://127.0.0.1:{port}"
    say(f"starting Label Studio on {url} with its data in {data_dir} (its log: {data_dir / 'server.log'}); "
        "version checks, analytics and error reports to Sentry are off")
    server = start_server(data_dir, port, account)
    signal.signal(signal.SIGTERM, stopped)  # the server runs in a session of its own: stop it on the way out
    try:
        wait_until_up(server, url, data_dir)
        who = f" as {account.username}" if account else ""
        say(f"Label Studio is ready: open {url} and sign in{who}. Ctrl-C stops it.\n"
            f"studio push and pull need your token: in Label Studio, {TOKEN_PAGE}. In the terminal where you run newscorpus:\n"
            f"  export LABEL_STUDIO_URL={url}\n"
            "  read -rs LABEL_STUDIO_API_KEY && export LABEL_STUDIO_API_KEY    # paste the token, then Enter (it is not shown)")
        status = server.wait()
        if status != 0:
            raise CommandError(f"Label Studio stopped with exit status {status}; see {data_dir / 'server.log'}")
    finally:
        stop_server(server)
