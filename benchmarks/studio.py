"""Label Studio at scale: `studio push` of N new articles, the same push again (nothing changed) and
`studio pull`, against a real server started as tests/conftest.py starts it.

`python -m benchmarks.studio CORPUS` prints JSON: seconds and peak RSS of each command.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .run import measure_rss

REPO = Path(__file__).resolve().parents[1]
STUDIO_BIN = REPO / ".venv-studio" / "bin" / "label-studio"
NEWSCORPUS = Path(sys.executable).parent / "newscorpus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    """A fresh Label Studio with a known token; returns once /health answers."""
    port, token = free_port(), secrets.token_hex(20)
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LABEL_STUDIO_USERNAME": "bench@example.com",
           "LABEL_STUDIO_PASSWORD": secrets.token_hex(8), "LABEL_STUDIO_USER_TOKEN": token,
           "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}
    log = (data_dir / "server.log").open("wb")
    server = subprocess.Popen([str(STUDIO_BIN), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return server, url, token
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("Label Studio did not come up:\n" + (data_dir / "server.log").read_text()[-3000:])
        time.sleep(1)


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main(corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        server, url, token = start_server(Path(scratch))
        os.environ.update(LABEL_STUDIO_URL=url, LABEL_STUDIO_API_KEY=token)
        try:
            project = ["--project", "bench", "--root", str(corpus), "--quiet"]
            results = {
                "push": measure_rss([str(NEWSCORPUS), "studio", "push", *project]),
                "push_unchanged": measure_rss([str(NEWSCORPUS), "studio", "push", *project]),
                "pull": measure_rss([str(NEWSCORPUS), "studio", "pull", *project]),
            }
        finally:
            stop_server(server)
            shutil.rmtree(corpus / "annotations" / "bench", ignore_errors=True)  # the pull's export: not benchmark input
    for step in results.values():
        step["out"] = step["out"].strip()
    print(json.dumps(results))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
