"""Hostile input that is not one file in a corpus: paths that are not files, versions spelt to
collide, command-line paths that do not exist, releases that are not releases, a busy or full
output folder, Ctrl-C, and Label Studio servers, tokens and URLs that are not what they should be. Each ends in exit 1 (130 for Ctrl-C) with one clear message, no
traceback, no hang, and nothing written."""

import fcntl
import json
import os
import resource
import signal
import subprocess
import threading
import time
import tracemalloc
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from newscorpus.files import EXPORT_LIMIT, read_bounded

from conftest import NEWSCORPUS, REPO, article, gum_corpus, new_corpus, run, write_jsonl
from test_failure import alive, children_of


@pytest.fixture
def corpus(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a", "Alice spoke.")])
    return layout


def only_releases(layout) -> list[str]:
    return sorted(p.name for p in layout.releases_dir.iterdir()) if layout.releases_dir.exists() else []


def test_a_fifo_a_device_and_a_link_loop_are_named_not_read(corpus):
    os.mkfifo(corpus.annotations_dir / "pipe.json")
    (corpus.corpus_dir / "zero.jsonl").symlink_to("/dev/zero")
    (corpus.annotations_dir / "loop.json").symlink_to("loop.json")
    result = run("validate", "--root", corpus.root, timeout=120)
    assert result.code == 1, result.out + result.err
    assert "error: annotations/pipe.json: [not-a-file] is a FIFO" in result.out
    assert "error: corpus/zero.jsonl: [not-a-file] is a character device" in result.out
    assert "error: annotations/loop.json: [file-unreadable] Too many levels of symbolic links" in result.out
    assert "Traceback" not in result.out + result.err


def test_reading_a_small_export_reserves_memory_for_its_size_not_for_the_4_gib_cap(tmp_path):
    export = tmp_path / "export.json"
    export.write_bytes(b"[]" + b" " * 100_000)
    tracemalloc.start()
    try:
        raw, problem = read_bounded(export, "export.json", EXPORT_LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem is None and len(raw) == 100_002
    assert peak < 1 << 20


def test_a_file_past_the_cap_is_refused_without_being_read(tmp_path):
    export = tmp_path / "export.json"
    export.write_bytes(b"[]" + b" " * 2000)
    raw, problem = read_bounded(export, "export.json", 1000)
    assert raw is None and problem.code == "file-too-large"
    raw, problem = read_bounded(export, "export.json", 2002)
    assert problem is None and len(raw) == 2002


@pytest.mark.parametrize("version", ["01.0.0", "1.00.0", "١.٠.٠", "2.0.0\n", "1.0", "1.0.0.0", "v1.0.0"])
def test_a_version_that_is_not_plain_ascii_x_y_z_is_refused(corpus, version):
    result = run("build", "--version", version, "--root", corpus.root)
    assert result.code == 1 and "is not X.Y.Z" in result.err, result.err
    assert only_releases(corpus) == []


def test_a_version_spelt_differently_from_an_existing_release_is_refused(corpus):
    older = corpus.releases_dir / "v01.0.0"  # written by a version of newscorpus that took leading zeros
    older.mkdir(parents=True)
    (older / "manifest.json").write_text("{}")
    result = run("build", "--version", "1.0.0", "--root", corpus.root)
    assert result.code == 1 and "v01.0.0 exists and releases are immutable" in result.err
    assert only_releases(corpus) == ["v01.0.0"]


def test_validate_of_a_path_that_does_not_exist_or_lies_outside_is_not_valid(corpus, tmp_path):
    (corpus.corpus_dir / "wire.jsonl").write_text('{"id": "broken"\n')
    typo = run("validate", corpus.corpus_dir / "typo.jsonl", "--root", corpus.root)
    assert typo.code == 1 and "[path-error] does not exist" in typo.err and "valid:" not in typo.out
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("")
    elsewhere = run("validate", outside, "--root", corpus.root)
    assert elsewhere.code == 1 and "[path-error] lies outside the corpus" in elsewhere.err
    (corpus.root / "junk.json").write_text("garbage{")
    (corpus.annotations_dir / "notes.txt").write_text("garbage{")
    for unread in (corpus.root / "junk.json", corpus.annotations_dir / "notes.txt"):
        said = run("validate", unread, "--root", corpus.root)
        assert said.code == 1 and "[path-error] is not a file validate reads" in said.err and "valid:" not in said.out
    shard = run("validate", corpus.corpus_dir / "wire.jsonl", "--root", corpus.root)
    assert shard.code == 1 and "wire.jsonl" in shard.out  # a file it reads is reported on, here as invalid


def test_diff_and_verify_of_what_is_not_a_release_say_so(corpus, tmp_path):
    missing = run("diff", tmp_path / "no-such-1", tmp_path / "no-such-2")
    assert missing.code == 1 and "is not a release: there is no such folder" in missing.err
    broken = corpus.releases_dir / "v1.0.0"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text('{"version": "1.0.0", "files": "all of them"}')
    verified = run("verify", broken, "--root", corpus.root)
    assert verified.code == 1 and "v1.0.0 is not a release" in verified.err and "manifest.json" in verified.err
    (broken / "manifest.json").write_text('{"version": "1.0.0"')
    assert "is not a release" in run("verify", broken, "--root", corpus.root).err
    later = run("build", "--version", "1.1.0", "--root", corpus.root)  # the earlier release fixes the splits: it must be read
    assert later.code == 1 and "v1.0.0 is not a release" in later.err
    for result in (missing, verified, later):
        assert "Traceback" not in result.err
    assert only_releases(corpus) == ["v1.0.0"]


def test_out_that_is_a_file_is_refused(corpus):
    out = corpus.root / "releases.txt"
    out.write_text("not a folder")
    result = run("build", "--version", "1.0.0", "--out", out, "--root", corpus.root)
    assert result.code == 1 and "is not a folder" in result.err
    assert out.read_text() == "not a folder"


def test_a_second_build_of_the_same_version_is_refused_and_told_who_holds_it(corpus):
    corpus.releases_dir.mkdir()
    lock = corpus.releases_dir / ".lock-v1.0.0"
    with lock.open("w") as held:  # what a running build holds
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("424242")
        held.flush()
        result = run("build", "--version", "1.0.0", "--root", corpus.root)
    assert result.code == 1
    assert "another build of v1.0.0 is running (process 424242" in result.err
    assert only_releases(corpus) == [".lock-v1.0.0"]


def test_a_full_disk_is_a_message_naming_the_folder_and_leaves_nothing(corpus):
    def small_files_only():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # writes past 4 kB fail as they would on a full disk

    done = subprocess.run([str(NEWSCORPUS), "build", "--version", "1.0.0", "--root", str(corpus.root)],
                          preexec_fn=small_files_only, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    assert f"cannot write the resolved labels in {corpus.releases_dir}: " in done.stderr and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert only_releases(corpus) == []


def test_ctrl_c_during_a_build_prints_one_line_and_leaves_nothing(tmp_path):
    layout = gum_corpus(tmp_path / "gum")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    build = subprocess.Popen([str(NEWSCORPUS), "build", "--version", "1.0.0", "--num-proc", "2", "--root", str(layout.root)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(children_of(build.pid)) < 3 and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children_of(build.pid)  # multiprocessing's resource tracker and the two workers
    assert len(workers) == 3, "the build spawned no workers"
    time.sleep(0.5)  # past the moment the workers are spawned, while they build
    os.killpg(build.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    out, err = build.communicate(timeout=120)
    assert build.returncode == 130, err
    assert err == "interrupted; nothing was written\n"
    deadline = time.monotonic() + 10
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(workers)
    assert only_releases(layout) == []


class OddStudio(BaseHTTPRequestHandler):
    """Answers the project list in a way a real Label Studio never does, and counts the requests."""

    mode = "list"
    requests = 0

    def do_GET(self):
        type(self).requests += 1
        page = {"count": 1, "next": "?page=2", "previous": None, "results": [{"id": 1, "title": "newscorpus", "label_config": "<View/>"}]}
        body, kind = {
            "list": (json.dumps([{"id": 1, "title": "newscorpus"}]), "application/json"),
            "html": ("<html><body>Please log in</body></html>", "text/html"),
            "wrong-items": (json.dumps({"count": 1, "results": [{"id": "one", "title": 3}]}), "application/json"),
            "endless": (json.dumps(page), "application/json"),  # page 1 again, whatever ?page= says
        }[self.mode]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def odd_studio():
    OddStudio.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), OddStudio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def studio_env(url: str, token: str) -> dict:
    return {**os.environ, "LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": token}


@pytest.mark.parametrize("mode", ["list", "html", "wrong-items", "endless"])
def test_a_server_answer_that_is_not_label_studios_is_an_error_naming_the_url(corpus, odd_studio, mode):
    OddStudio.mode = mode
    token = "odd-server-token-5d1e"
    result = run("studio", "pull", "--root", corpus.root, env=studio_env(odd_studio, token), timeout=120)
    assert result.code == 1, result.err
    assert odd_studio in result.err and "Traceback" not in result.err
    assert token not in result.out + result.err
    if mode == "endless":
        assert "ignores ?page=" in result.err and OddStudio.requests == 2
    assert list(corpus.annotations_dir.iterdir()) == []


@pytest.mark.parametrize("token", ["crlf-token-7a9c\r", "newline-token-7a9c\n", "tökén-7a9c-non-ascii", "two words-7a9c"])
def test_a_token_an_http_header_cannot_carry_is_refused_before_any_request(corpus, odd_studio, token):
    result = run("studio", "push", "--root", corpus.root, env=studio_env(odd_studio, token))
    assert result.code == 1 and "nothing was sent" in result.err
    assert "7a9c" not in result.out + result.err and "Traceback" not in result.err
    assert OddStudio.requests == 0


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/", "http://", "127.0.0.1:8080"])
def test_a_malformed_server_url_is_refused(corpus, url):
    result = run("studio", "push", "--root", corpus.root, env=studio_env(url, "some-token-3b8f"))
    assert result.code == 1 and "is not an http:// or https:// URL" in result.err
    assert "3b8f" not in result.err and "Traceback" not in result.err


def test_secrets_are_scrubbed_in_every_form():
    from newscorpus.redact import redact

    token = "s3cr/et+tok en\r"
    forms = [token, repr(token), json.dumps(token), urllib.parse.quote(token, safe=""), urllib.parse.quote_plus(token),
             repr(f"Token {token}".encode()), token.strip()]
    for form in forms:
        assert "s3cr" not in redact(f"Illegal header value {form}", token), form


def jwt_token(expired: bool) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"token_type": "refresh", "exp": now - 3600 if expired else now + 3600, "user_id": 1}, "not-the-server-signing-key-0123456789abcdef", algorithm="HS256")


@pytest.mark.studio
@pytest.mark.parametrize("expired", [True, False], ids=["expired", "forged"])
def test_an_expired_or_forged_token_against_the_real_server_is_a_clear_error(corpus, label_studio, expired):
    token = jwt_token(expired)
    result = run("studio", "pull", "--root", corpus.root, env=label_studio.env(LABEL_STUDIO_API_KEY=token))
    assert result.code == 1, result.err
    assert label_studio.url in result.err and "401" in result.err
    assert token not in result.out + result.err and token[-12:] not in result.err and "Traceback" not in result.err
