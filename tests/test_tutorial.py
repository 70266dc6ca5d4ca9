"""docs/tutorial.md as a newcomer follows it, against a real Label Studio started by `newscorpus studio serve`.

The tutorial's own shell blocks run in bash with HOME in a temporary folder; the token is read from
Account & Settings -> Legacy Token in a real browser (Debian's Chromium, scripts/install-browser)
and typed into the tutorial's `read`. Only the annotation, made in the browser by a person, is made
through the SDK.
"""

import os
import re
import secrets
import subprocess
import sys

import httpx
import pytest
from label_studio_sdk import LabelStudio

from conftest import CHROMIUM, NEWSCORPUS, QUIET_CHROMIUM, REPO, chromium_page, free_port, sign_in

TUTORIAL = (REPO / "docs" / "tutorial.md").read_text()



def block(first_line: str, language: str = "bash") -> str:
    """The tutorial's code block that starts with this line."""
    (found,) = [b for b in re.findall(rf"^```{language}\n(.*?)^```$", TUTORIAL, flags=re.M | re.S) if b.startswith(first_line)]
    return found


def bash(script: str, env: dict, stdin: str = "") -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=env["HOME"], env=env, input=stdin,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def token_from_the_account_page(url: str, email: str, password: str) -> tuple[str, dict]:
    """Sign in, then your initials -> Account & Settings -> Legacy Token, as the tutorial says; also the page's settings."""
    with chromium_page(*QUIET_CHROMIUM, viewport={"width": 1400, "height": 900}) as page:
        sign_in(page, url, email, password)
        settings = page.evaluate("({analytics: window.APP_SETTINGS.collect_analytics, sentry: window.APP_SETTINGS.sentry_dsn})")
        page.get_by_text(email[:2].upper(), exact=True).first.click()
        page.get_by_text("Account & Settings").first.click()
        page.get_by_text("Legacy Token", exact=True).first.click()
        page.wait_for_function("document.querySelector('input[name=token]')?.value.length > 0", timeout=60_000)
        return page.locator("input[name=token]").input_value(), settings


def annotate_as_in_the_browser(url: str, token: str) -> None:
    """What the tutorial asks of the annotator: ORG on "Portuguese Navy", GPE on the text's "Lisbon", Submit."""
    client = LabelStudio(base_url=url, api_key=token)
    (project,) = [p for p in client.projects.list(title="newscorpus") if p.title == "newscorpus"]
    (task,) = list(client.tasks.list(project=project.id))
    text = task.data["text"]
    result = [{"id": f"r{i}", "from_name": "entities", "to_name": "text", "type": "labels",
               "value": {"start": text.index(word), "end": text.index(word) + len(word), "text": word, "labels": [label]}}
              for i, (word, label) in enumerate([("Portuguese Navy", "ORG"), ("Lisbon", "GPE")])]
    client.annotations.create(id=task.id, result=result, lead_time=60)


@pytest.mark.studio
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-browser)")
def test_the_first_hour_from_init_to_a_loaded_release(tmp_path):
    home, data_dir, port = tmp_path / "home", tmp_path / "studio-data", free_port()
    home.mkdir()
    email, password = "you@example.com", secrets.token_hex(8)
    env = {**os.environ, "HOME": str(home), "PATH": f"{NEWSCORPUS.parent}:{os.environ['PATH']}"}
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        env.pop(name, None)

    said = bash(block("newscorpus init ~/mycorpus") + block("cat > storm.txt"), env)
    assert "added 1 articles to corpus/example-wire.jsonl" in said and "valid: 0 errors" in said

    assert "newscorpus studio serve\n" in block("cd path/to/newscorpus && source")
    server = subprocess.Popen([str(NEWSCORPUS), "studio", "serve", "--port", str(port), "--data-dir", str(data_dir)],
                              env={**env, "LABEL_STUDIO_USERNAME": email, "LABEL_STUDIO_PASSWORD": password},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        serve_said = ""
        while "LABEL_STUDIO_API_KEY" not in serve_said:
            line = server.stdout.readline()
            assert line, f"studio serve stopped:\n{serve_said}"
            serve_said += line
        url = f"http://127.0.0.1:{port}"
        assert f"open {url} and sign in as {email}" in serve_said
        assert "Account & Settings -> Legacy Token" in serve_said

        token, page_settings = token_from_the_account_page(url, email, password)
        assert token and token not in serve_said
        assert page_settings == {"analytics": False, "sentry": None}  # what serve promises: no analytics, no Sentry

        to_corpus = "cd ~/mycorpus\n" + block("export LABEL_STUDIO_URL=").replace(":8080", f":{port}")
        said = bash(to_corpus + block("newscorpus studio push"), env, stdin=token + "\n")
        assert "pushed 1 tasks" in said, said

        annotate_as_in_the_browser(url, token)

        said += bash(to_corpus + block("newscorpus studio pull") + block("newscorpus build --version 1.0.0"), env, stdin=token + "\n")
        assert "wrote annotations/newscorpus/" in said
        assert token not in said
        loaded = subprocess.run([sys.executable, "-c", block("from datasets import load_dataset", "python")], cwd=home / "mycorpus",
                                env={**env, "HF_DATASETS_CACHE": str(tmp_path / "hf-cache")}, capture_output=True, text=True, timeout=600)
        assert loaded.returncode == 0, loaded.stderr
        assert "Storm closes Lisbon harbour" in loaded.stdout
        assert "Storm closes Lisbon harbour [('Lisbon', 'GPE'), ('Portuguese Navy', 'ORG')]" in loaded.stdout
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert "interrupted" not in server.stdout.read()


@pytest.mark.studio
def test_serve_refuses_a_busy_port_instead_of_moving_to_another(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([str(NEWSCORPUS), "studio", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.studio
def test_a_new_server_without_a_terminal_asks_for_its_first_user_in_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD")}
    result = subprocess.run([str(NEWSCORPUS), "studio", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)
    assert result.returncode == 1
    assert "set LABEL_STUDIO_USERNAME (an email) and LABEL_STUDIO_PASSWORD" in result.stderr


def test_the_server_environment_turns_telemetry_off_whatever_the_caller_set(tmp_path, monkeypatch):
    from newscorpus.studio.serve import studio_environment

    monkeypatch.setenv("LABEL_STUDIO_COLLECT_ANALYTICS", "true")
    monkeypatch.setenv("HEARTEX_LATEST_VERSION_CHECK", "true")
    env = studio_environment(tmp_path)
    assert (env["LATEST_VERSION_CHECK"], env["COLLECT_ANALYTICS"], env["SENTRY_DSN"], env["FRONTEND_SENTRY_DSN"]) == ("false", "false", "", "")
    assert "LABEL_STUDIO_COLLECT_ANALYTICS" not in env and "HEARTEX_LATEST_VERSION_CHECK" not in env
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"


@pytest.mark.studio
def test_a_personal_access_token_works_where_legacy_tokens_are_refused(tmp_path, label_studio):
    """annotation.md's way out for a server made without legacy tokens: Account & Settings -> Personal Access Token."""
    import json
    import urllib.request

    create = urllib.request.Request(label_studio.url + "/api/token/", method="POST", data=b"{}", headers={
        "Authorization": f"Token {label_studio.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(create) as answer:
        personal = json.loads(answer.read())["token"]
    root = tmp_path / "corpus"
    assert subprocess.run([str(NEWSCORPUS), "init", str(root)], capture_output=True).returncode == 0
    (root / "storm.txt").write_text("Storm closes Lisbon harbour\nShips stayed in port as a storm reached Lisbon.\n")
    assert subprocess.run([str(NEWSCORPUS), "add", "storm.txt", "--source", "Example Wire", "--root", str(root)], cwd=root,
                          capture_output=True).returncode == 0
    pushed = subprocess.run([str(NEWSCORPUS), "studio", "push", "--project", "personal token", "--root", str(root)],
                            env=label_studio.env(LABEL_STUDIO_API_KEY=personal), capture_output=True, text=True, timeout=300)
    assert pushed.returncode == 0 and "pushed 1 tasks" in pushed.stdout, pushed.stderr
    assert personal not in pushed.stdout + pushed.stderr


@pytest.mark.studio
def test_on_a_terminal_a_new_server_asks_for_the_first_user_and_signs_them_in(tmp_path):
    """The tutorial's step 3 as typed: serve asks for an email and a password (twice), and that account works."""
    import pty
    import time

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD")}
    pid, terminal = pty.fork()
    if pid == 0:
        os.execve(str(NEWSCORPUS), [str(NEWSCORPUS), "studio", "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")], env)
    password, said = secrets.token_hex(8), b""

    def answer(prompt: bytes, reply: str, seconds: float = 600) -> None:
        nonlocal said
        deadline = time.monotonic() + seconds
        while prompt not in said:
            assert time.monotonic() < deadline, said.decode(errors="replace")
            try:
                said += os.read(terminal, 4096)
            except OSError:  # serve ended: the terminal is closed
                pytest.fail(f"studio serve ended before saying {prompt!r}:\n{said.decode(errors='replace')}")
        said = said.split(prompt, 1)[1]
        os.write(terminal, reply.encode() + b"\n")

    try:
        answer(b"email: ", "typed@example.com")
        answer(b"password (8 characters or more): ", "short")
        answer(b"password (8 characters or more): ", password)  # a short one is asked again
        answer(b"the same password again: ", password)
        answer(b"Ctrl-C stops it.", "")
        login = f"http://127.0.0.1:{port}/user/login/"
        with httpx.Client() as browser:  # the sign-in form, as a browser posts it (with Django's CSRF cookie)
            browser.get(login)
            signed_in = browser.post(login, headers={"Referer": login}, follow_redirects=False, data={
                "email": "typed@example.com", "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        assert signed_in.status_code == 302 and "/user/login" not in signed_in.headers["location"]
    finally:
        os.kill(pid, 15)
        os.waitpid(pid, 0)
