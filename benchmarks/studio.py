"""Label Studio at scale: `studio push` of N new articles, the same push again (nothing changed) and
`studio pull`, against a real server started as `newscorpus studio serve` (and tests/conftest.py) starts it.

`python -m benchmarks.studio CORPUS` prints JSON: seconds and peak RSS of each command.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from newscorpus.studio.serve import Account, start_server, stop_server, wait_until_up

from .run import measure_rss

NEWSCORPUS = Path(sys.executable).parent / "newscorpus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        port, data_dir = free_port(), Path(scratch)
        account = Account("bench@example.com", secrets.token_hex(8), token=secrets.token_hex(20))
        url = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, port, account)
        os.environ.update(LABEL_STUDIO_URL=url, LABEL_STUDIO_API_KEY=account.token)
        try:
            wait_until_up(server, url, data_dir)
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
