"""Failure: builds killed at random points, servers that fail mid-export, corrupted bytes.
Nothing half-written is ever left behind and nothing crashes with a traceback."""

import hashlib
import json
import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NEWSCORPUS, REPO, StudioServer, gum_corpus, run, write_jsonl, article, new_corpus

TOKEN = "failure-test-token-6f1c2a9b"


def release_is_complete(release) -> bool:
    manifest = json.loads((release / "manifest.json").read_text())
    return all(hashlib.sha256((release / f["path"]).read_bytes()).hexdigest() == f["sha256"] for f in manifest["files"])


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]}


def test_a_build_killed_at_random_points_never_leaves_a_partial_release_or_a_process(tmp_path):
    layout = gum_corpus(tmp_path / "gum")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    started = time.monotonic()
    assert run("build", "--version", "9.9.9", "--root", layout.root).code == 0
    full = time.monotonic() - started
    rng = random.Random(20261124)
    target = layout.releases_dir / "v1.0.0"
    for trial in range(20):
        process = subprocess.Popen([str(NEWSCORPUS), "build", "--version", "1.0.0", "--root", str(layout.root)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full))
        workers = children_of(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(workers), f"trial {trial}: workers of the killed build live on"
        if target.exists():  # the kill came after the final rename: the release must be whole
            assert release_is_complete(target), f"trial {trial}: partial release"
            subprocess.run(["rm", "-rf", str(target)], check=True)
        assert [p.name for p in layout.releases_dir.iterdir() if p.name.startswith("v")] == ["v9.9.9"]
    result = run("build", "--version", "1.0.0", "--root", layout.root)
    assert result.code == 0, result.err
    assert release_is_complete(target)
    assert not [p for p in layout.releases_dir.iterdir() if p.name.startswith(".staging")]


class FailingStudio(BaseHTTPRequestHandler):
    """Answers the project list like Label Studio, then fails the export in the way the test asks."""

    mode = "500"

    def do_GET(self):
        if self.path.startswith("/api/projects/?") and "page=1&" not in self.path:
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail": "Invalid page."}')
        elif self.path.startswith("/api/projects/?"):
            body = json.dumps({"count": 1, "next": None, "previous": None, "results": [{"id": 1, "title": "newscorpus", "label_config": "<View/>"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.mode == "invalid":  # a whole, well-formed export whose span carries a label outside the taxonomy
            body = json.dumps([{"id": 1, "data": {"article_id": "a", "title": "A title", "text": "Alice."}, "annotations": [
                {"id": 1, "completed_by": 1, "result": [{"from_name": "entities", "to_name": "text", "type": "labels",
                                                          "value": {"start": 0, "end": 5, "text": "Alice", "labels": ["CELEBRITY"]}}]}]}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.mode == "500":
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"detail": "export failed"}')
        else:  # promise a long body, send part of it, drop the connection
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'[{"id": 1, "data": {"article_id": "a"')
            self.wfile.flush()
            self.connection.shutdown(2)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("mode", ["500", "drop", "invalid"])
def test_a_pull_from_a_failing_server_writes_nothing_and_keeps_what_was_there(mode, tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON"])
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a", "Alice.")])
    earlier = layout.annotations_dir / "newscorpus" / "20260101T000000Z.json"
    earlier.parent.mkdir()
    earlier.write_text("[]")
    FailingStudio.mode = mode
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingStudio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        studio = StudioServer(f"http://127.0.0.1:{server.server_port}", TOKEN)
        result = run("studio", "pull", "--project", "newscorpus", "--root", layout.root, env=studio.env())
    finally:
        server.shutdown()
    assert result.code == 1
    assert "Traceback" not in result.err and TOKEN not in result.out + result.err
    assert studio.url in result.err or mode == "invalid"
    if mode == "500":
        assert "HTTP 500" in result.err
    if mode == "invalid":
        assert "[unknown-label]" in result.err and "not written" in result.err
    assert sorted(p.relative_to(layout.annotations_dir).as_posix() for p in layout.annotations_dir.rglob("*")) == ["newscorpus", "newscorpus/20260101T000000Z.json"]
    assert earlier.read_text() == "[]"


def test_a_huge_article_of_10_mb_builds_and_keeps_its_offsets(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    paragraph = "Reporters followed the long session of parliament late into the night. " * 20
    text = "\n".join([paragraph.strip()] * 7100) + "\nAlice spoke last."
    assert len(text.encode()) > 10_000_000
    record = article("huge", text)
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    start = text.index("Alice")
    task = {"id": 1, "data": {"article_id": "huge", "title": record["title"], "text": text},
            "annotations": [{"id": 1, "completed_by": 1, "result": [{"from_name": "entities", "to_name": "text", "type": "labels",
                                                                    "value": {"start": start, "end": start + 5, "labels": ["PERSON"], "text": "Alice"}}]}]}
    (layout.annotations_dir / "big.json").write_text(json.dumps([task]))
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    from datasets import load_dataset

    (row,) = [row for split in load_dataset(str(layout.releases_dir / "v1.0.0")).values() for row in split]
    assert len(row["text"]) == len(text) and row["entities"] == [{"start": start, "end": start + 5, "label": 0, "text": "Alice"}]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_byte_corruption_of_any_input_never_gives_a_traceback(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("corrupt")
    layout = new_corpus(root / "c", ["PERSON", "ORG"])
    record = article("a", "Alice works at Acme. 🎉 Ünïcödé text.")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    export = [{"id": 1, "data": {"article_id": "a", "title": record["title"], "text": record["text"]},
               "annotations": [{"id": 1, "completed_by": 1, "result": [{"from_name": "entities", "to_name": "text", "type": "labels",
                                                                       "value": {"start": 0, "end": 5, "labels": ["PERSON"], "text": "Alice"}}]}]}]
    (layout.annotations_dir / "e.json").write_text(json.dumps(export, ensure_ascii=False))
    victim = data.draw(st.sampled_from([layout.corpus_dir / "wire.jsonl", layout.annotations_dir / "e.json", layout.taxonomy_path]))
    raw = bytearray(victim.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    victim.write_bytes(bytes(raw))
    result = run("validate", "--root", layout.root)
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.out + result.err
