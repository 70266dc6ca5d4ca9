"""A disk that fills up, at every stage of `build`, `add`, `import` and `studio pull`: the command
ends with exit 1, one message naming the folder and what was being written, no traceback, and
nothing half-written is left.

The space runs out in two real ways. RLIMIT_FSIZE (a file size limit, set in the command's own
process, SIGXFSZ ignored so that writes fail with EFBIG) hits the first file larger than the limit:
each corpus below is shaped so that the file of the stage under test is the first one that large.
A small tmpfs (mounted when the tests may mount, as root) fills up as a real disk does (ENOSPC),
at sizes where the space runs out in the early, middle and late stages of a build.
"""

import http.client
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import threading
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio

from newscorpus.studio.serve import Account, start_server, stop_server, wait_until_up

from conftest import GUM, GUM_LABELS, NEWSCORPUS, REPO, StudioServer, article, free_port, gum_corpus, new_corpus, write_jsonl


def file_size_limit(kib: int):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib << 10, kib << 10))
    return limit


def newscorpus(*args, limit_kib: int | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEWSCORPUS), *map(str, args)], capture_output=True, text=True, timeout=600, env=env,
                          preexec_fn=file_size_limit(limit_kib) if limit_kib else None)


def assert_refused_cleanly(done: subprocess.CompletedProcess, what: str, folder: Path) -> None:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()  # one line: no traceback, no report
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write {what} in {folder}: "), done.stderr
    assert lines[0].endswith("; nothing was written"), done.stderr


def one_article(root: Path, labels=("PERSON",), topics=None):
    layout = new_corpus(root, list(labels), topics)
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a", "Alice spoke.")])
    return layout


def long_guideline(root: Path):
    """The card (README.md) carries each label's guideline; nothing before it does."""
    layout = one_article(root)
    taxonomy = json.loads(layout.taxonomy_path.read_text())
    taxonomy["entities"]["labels"][0]["description"] = "People, including fictional. " * 8000
    layout.taxonomy_path.write_text(json.dumps(taxonomy))
    return layout


def many_labels(root: Path):
    """150 entity labels and 60 topics make a picture of about 300 KB; the Parquet files only name them."""
    return one_article(root, [f"LABEL{i}" for i in range(150)], [f"topic {i}" for i in range(60)])


def long_description(root: Path):
    """The release description goes into every Parquet file's metadata."""
    layout = one_article(root)
    settings = json.loads(layout.release_settings_path.read_text())
    settings["description"] = "A corpus of news. " * 12000
    layout.release_settings_path.write_text(json.dumps(settings))
    return layout


def many_articles(root: Path):
    """3,000 articles with long ids: a chunk's tables hold 1,000 of them uncompressed, the manifest
    lists all 3,000 in its splits (about 350 KB), the Parquet files compress them."""
    layout = one_article(root)
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("x" * 95 + f"{i:05d}", f"Story number {i} here.") for i in range(3000)])
    return layout


@pytest.mark.parametrize("corpus, limit_kib, what", [
    (one_article, 4, "the resolved labels"),
    (many_articles, 100, "the tables of the configs"),
    (long_description, 100, "the Parquet shards"),
    (many_labels, 96, "the picture"),
    (long_guideline, 100, "the card"),
    (many_articles, 250, "the manifest"),
])
def test_a_build_that_runs_out_of_room_names_the_stage_and_the_folder_and_leaves_nothing(corpus, limit_kib, what, tmp_path):
    layout = corpus(tmp_path / "c")
    out = tmp_path / "releases"
    done = newscorpus("build", "--version", "1.0.0", "--root", layout.root, "--out", out, "--quiet", limit_kib=limit_kib)
    assert_refused_cleanly(done, what, out)
    assert list(out.iterdir()) == []  # no release, no staging folder, no lock
    assert newscorpus("build", "--version", "1.0.0", "--root", layout.root, "--out", out, "--quiet").returncode == 0  # with room, it builds


@contextmanager
def small_disk(path: Path, kib: int):
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the file size limit cases cover the stages")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.fixture(scope="module")
def gum_build(tmp_path_factory):
    """The GUM corpus; its build peaks at about 2.2 MB of staging files for a 700 KB release."""
    layout = gum_corpus(tmp_path_factory.mktemp("gum") / "gum")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    return layout


@pytest.mark.parametrize("kib, what", [(8, "the resolved labels"), (1000, "the tables of the configs"), (1900, "the Parquet shards")])
def test_a_build_on_a_disk_that_fills_up_names_the_stage_and_leaves_nothing(gum_build, kib, what, tmp_path):
    with small_disk(tmp_path / "disk", kib) as disk:
        out = disk / "releases"
        done = newscorpus("build", "--version", "1.0.0", "--root", gum_build.root, "--out", out, "--quiet")
        assert_refused_cleanly(done, what, out)
        assert list(out.iterdir()) == []


def test_add_that_runs_out_of_room_leaves_the_shard_as_it_was(tmp_path):
    layout = one_article(tmp_path / "c")
    shard = layout.corpus_dir / "test-wire.jsonl"
    write_jsonl(shard, [article(f"a{i}", f"Story number {i} about Alice.") for i in range(100)])
    before = shard.read_bytes()
    note = tmp_path / "note.txt"
    note.write_text("A title\n" + "A long body about Bob. " * 200 + "\n")
    done = newscorpus("add", note, "--source", "Test Wire", "--root", layout.root, limit_kib=len(before) >> 10)
    assert_refused_cleanly(done, "the corpus shards", layout.corpus_dir)
    assert shard.read_bytes() == before
    assert sorted(p.name for p in layout.corpus_dir.iterdir()) == ["release.json", "test-wire.jsonl", "wire.jsonl"]  # no temporary file


def test_import_that_runs_out_of_room_writes_neither_articles_nor_export(tmp_path):
    layout = new_corpus(tmp_path / "c", GUM_LABELS)
    export = GUM / "labelstudio-export.json"
    done = newscorpus("import", export, "--source", "wikinews", "--root", layout.root, limit_kib=200)  # the shard (90 KB) fits, the export does not
    assert_refused_cleanly(done, "the articles and the export", layout.root)
    assert [p for p in (*layout.corpus_dir.rglob("*"), *layout.annotations_dir.rglob("*")) if p.is_file()] == []
    imported = newscorpus("import", export, "--source", "wikinews", "--root", layout.root)
    assert imported.returncode == 0, imported.stderr


@pytest.mark.studio
def test_a_pull_that_runs_out_of_room_writes_nothing(label_studio, tmp_path):
    layout = one_article(tmp_path / "c")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a", "Alice spoke at length. " * 1000)])
    env = label_studio.env()
    assert newscorpus("studio", "push", "--project", "Full disk", "--root", layout.root, env=env).returncode == 0
    done = newscorpus("studio", "pull", "--project", "Full disk", "--root", layout.root, env=env, limit_kib=8)  # the export holds 23 KB of text
    assert_refused_cleanly(done, "the export", layout.annotations_dir / "full-disk")
    assert [p for p in layout.annotations_dir.rglob("*") if p.is_file()] == []
    assert newscorpus("studio", "pull", "--project", "Full disk", "--root", layout.root, env=env).returncode == 0


class KillingProxy(BaseHTTPRequestHandler):
    """Passes requests to a real Label Studio until the request the test names (`fatal`, a method
    and a path pattern, its `fatal_at`-th occurrence): then it kills the server's processes and
    drops the connection, as a server that dies under the request does."""

    upstream: str
    server_process: subprocess.Popen
    fatal: tuple[str, re.Pattern]
    fatal_at: int
    seen = 0

    def relay(self):
        method, pattern = self.fatal
        if self.command == method and pattern.search(self.path):
            type(self).seen += 1
            if type(self).seen == self.fatal_at:
                os.killpg(self.server_process.pid, signal.SIGKILL)
                self.server_process.wait()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        connection = http.client.HTTPConnection(*urllib.parse.urlsplit(self.upstream).netloc.split(":"), timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(self.command, self.path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = relay

    def log_message(self, *args):
        pass


@contextmanager
def killing_proxy(studio, process, method: str, path_pattern: str, at: int = 1):
    KillingProxy.upstream, KillingProxy.server_process = studio.url, process
    KillingProxy.fatal, KillingProxy.fatal_at, KillingProxy.seen = (method, re.compile(path_pattern)), at, 0
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), KillingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield StudioServer(f"http://127.0.0.1:{proxy.server_port}", studio.token)
    finally:
        proxy.shutdown()
        proxy.server_close()


@contextmanager
def own_label_studio(data_dir: Path, account: Account):
    """A real Label Studio of the test's own, its database in `data_dir`: started again on it, it has
    the same projects, tasks and token. Yields the server and its process."""
    url = f"http://127.0.0.1:{free_port()}"
    server = start_server(data_dir, int(url.rsplit(":", 1)[1]), account)
    try:
        wait_until_up(server, url, data_dir)
        yield StudioServer(url, account.token), server
    finally:
        stop_server(server)


@pytest.mark.studio
def test_a_push_whose_server_dies_part_way_says_how_many_went_in_and_the_next_push_completes_it(tmp_path):
    """A real server of its own, killed under the second batch of 500 tasks, then started again on its database."""
    layout = one_article(tmp_path / "c")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article(f"story-{i}", f"Story number {i} about Alice.") for i in range(700)])
    data_dir, token = tmp_path / "studio", secrets.token_hex(20)
    account = Account("curator@example.com", secrets.token_hex(8), token=token)
    with own_label_studio(data_dir, account) as (studio, process):
        with killing_proxy(studio, process, "POST", r"^/api/projects/\d+/import", at=2) as proxied:
            done = newscorpus("studio", "push", "--project", "Dies", "--root", layout.root, "--quiet", env=proxied.env())
    assert done.returncode == 1, done.stderr
    assert "importing tasks" in done.stderr and "500 tasks of this push went in before it failed" in done.stderr
    assert "Traceback" not in done.stderr and token not in done.stderr + done.stdout
    with own_label_studio(data_dir, account) as (studio, process):
        again = newscorpus("studio", "push", "--project", "Dies", "--root", layout.root, "--quiet", env=studio.env())
        assert again.returncode == 0, again.stderr
        assert "pushed 200 tasks; 500 articles already in the project" in again.stdout
        client = LabelStudio(base_url=studio.url, api_key=token)
        (project,) = [p for p in client.projects.list() if p.title == "Dies"]
        ids = [t.data["article_id"] for t in client.tasks.list(project=project.id, fields="all")]
        assert len(ids) == 700 and len(set(ids)) == 700  # every article once: no duplicate task

        with killing_proxy(studio, process, "GET", r"/export", at=1) as proxied:
            pulled = newscorpus("studio", "pull", "--project", "Dies", "--root", layout.root, "--quiet", env=proxied.env())
        assert pulled.returncode == 1 and "exporting the project" in pulled.stderr, pulled.stderr
        assert "Traceback" not in pulled.stderr and token not in pulled.stderr + pulled.stdout
        assert [p for p in layout.annotations_dir.rglob("*") if p.is_file()] == []  # a pull whose server dies writes nothing


@pytest.mark.parametrize("fmt", ["conll", "brat", "spacy"])
def test_an_export_that_runs_out_of_room_names_the_folder_and_leaves_nothing(fmt, tmp_path):
    out = tmp_path / "exported"
    done = newscorpus("export", REPO / "releases" / "v1.1.0", "--format", fmt, "--out", out, limit_kib=1)
    assert_refused_cleanly(done, f"the {fmt} export", out)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its staging folder
    assert newscorpus("export", REPO / "releases" / "v1.1.0", "--format", fmt, "--out", out).returncode == 0  # with room, it exports


def test_an_init_that_runs_out_of_room_leaves_no_corpus(tmp_path):
    root = tmp_path / "corpus"
    done = newscorpus("init", root, limit_kib=6)  # the taxonomy (5.6 KiB) fits, the Label Studio export schema (8.2 KiB) does not
    assert_refused_cleanly(done, "the new corpus", root)
    assert list(tmp_path.iterdir()) == []
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    done = newscorpus("init", clone, limit_kib=6)
    assert_refused_cleanly(done, "the new corpus", clone)
    assert [p.name for p in clone.iterdir()] == [".git"]
    assert newscorpus("init", clone).returncode == 0  # with room, it lays the corpus out
