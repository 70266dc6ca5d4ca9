"""Fixtures that build real corpora on disk and run the real `newscorpus` command on them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from newscorpus.corpus import add_article
from newscorpus.ingest.boilerplate import BoilerplateRules
from newscorpus.ingest.text import make_article
from newscorpus.layout import Layout

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # test data shipped with the repository; provenance and licenses in each folder's README
GUM = DATA / "gum-news"
SEED_TEXT = DATA / "seed" / "ibns-anti-taliban-panjshir.txt"
NEWSCORPUS = Path(sys.executable).parent / "newscorpus"
CHROMIUM = shutil.which("chromium")  # Debian's, from scripts/install-browser; Playwright's own download is not used
QUIET_CHROMIUM = ("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run")
GUM_LABELS = ["person", "place", "organization", "event", "time", "abstract", "object", "substance", "plant", "animal"]


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600) -> Result:
    """The installed console script, as a user runs it."""
    done = subprocess.run([str(NEWSCORPUS), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


def write_taxonomy(root: Path, entity_labels: list[str], topics: list[str] | None = None, title: bool = True) -> None:
    entities = {"control": "entities", "object": "text", "labels": [{"name": n, "description": f"{n} mentions"} for n in entity_labels]}
    if title:
        entities.update(title_control="title_entities", title_object="title")
    topic_names = topics or ["politics", "sport", "science and technology"]
    taxonomy = {"entities": entities, "topics": {"control": "topics", "object": "text", "labels": [{"name": n} for n in topic_names]}}
    (root / "schema").mkdir(parents=True, exist_ok=True)
    (root / "schema" / "taxonomy.json").write_text(json.dumps(taxonomy, indent=2))


def new_corpus(root: Path, entity_labels: list[str] | None = None, topics: list[str] | None = None) -> Layout:
    """An empty corpus folder with the repository's schemas and the given label set."""
    shutil.copytree(REPO / "schema", root / "schema")
    if entity_labels is not None:
        write_taxonomy(root, entity_labels, topics)
    (root / "corpus").mkdir()
    (root / "annotations").mkdir()
    return Layout(root)


def gum_corpus(root: Path) -> Layout:
    """The 24 GUM Wikinews articles as a corpus with GUM's own 10 entity types and its export."""
    layout = new_corpus(root, GUM_LABELS)
    for meta_path in sorted(GUM.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text())
        text = (GUM / meta_path.name.replace(".meta.json", ".txt")).read_text()
        record = make_article(text, article_id=meta["article_id"], source=meta["source"], rules=BoilerplateRules(),
                              title=meta["title"], language=meta["language"], url=meta["url"],
                              published=meta["published"], license=meta["license"])
        add_article(layout, record)
    shutil.copy(GUM / "labelstudio-export.json", layout.annotations_dir / "gum-2026-11-24T152229.json")
    return layout


@pytest.fixture(autouse=True)
def own_datasets_cache(tmp_path, monkeypatch):
    """Each test loads releases through its own Hugging Face cache.

    datasets 5.x keys the cache of a local folder by its card's dataset_info and file patterns only
    (not paths, bytes or mtimes), so two test releases with equal stats would read each other's cache.
    """
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")


@pytest.fixture
def gum(tmp_path) -> Layout:
    return gum_corpus(tmp_path / "gum")


def with_release_settings(layout):
    """The repository's own release settings, so test releases are built as the real one is."""
    shutil.copy(REPO / "corpus" / "release.json", layout.corpus_dir / "release.json")
    return layout


@pytest.fixture(scope="module")
def gum_release(tmp_path_factory):
    layout = with_release_settings(gum_corpus(tmp_path_factory.mktemp("gum") / "gum"))
    result = run("build", "--version", "1.0.0", "--root", layout.root)
    assert result.code == 0, result.err
    return layout, layout.releases_dir / "v1.0.0"


def article(article_id: str, text: str, title: str = "A title", source: str = "Test Wire") -> dict:
    return {"id": article_id, "title": title, "text": text, "source": source, "language": "en"}


def span(start: int, end: int, label: str, text: str | None, control: str = "entities", obj: str = "text") -> dict:
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"id": f"r{start}-{end}-{label}", "from_name": control, "to_name": obj, "type": "labels", "value": value}


def topics(*names: str) -> dict:
    return {"id": "t", "from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": list(names)}}


def task(task_id: int, record: dict, *annotations: dict) -> dict:
    return {"id": task_id, "data": {"article_id": record["id"], "title": record["title"], "text": record["text"]},
            "annotations": list(annotations), "predictions": []}


def annotation(annotation_id: int, user: int, *results: dict, cancelled: bool = False, ground_truth: bool = False) -> dict:
    return {"id": annotation_id, "completed_by": user, "was_cancelled": cancelled, "ground_truth": ground_truth, "result": list(results)}


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def pseudonym(layout: Layout, user_id: int) -> str:
    """The name a release of this corpus gives Label Studio user `user_id` (its key exists after a build)."""
    from newscorpus.annotators import Pseudonyms, load_or_create_key

    return Pseudonyms(load_or_create_key(layout)).of(f"user:{user_id}", "")


def write_export(layout: Layout, name: str, tasks: list[dict]) -> Path:
    path = layout.annotations_dir / name
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


STUDIO_BIN = REPO / ".venv-studio" / "bin" / "label-studio"


@dataclass
class StudioServer:
    url: str
    token: str
    username: str = ""
    password: str = ""

    def env(self, **extra) -> dict:
        import os

        return {**os.environ, "LABEL_STUDIO_URL": self.url, "LABEL_STUDIO_API_KEY": self.token, **extra}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A real Label Studio server (from .venv-studio, see scripts/install-label-studio) on a free port,
    started as `newscorpus studio serve` starts it."""
    import secrets

    from newscorpus.studio.serve import Account, start_server, stop_server, wait_until_up

    assert STUDIO_BIN.exists(), "Label Studio is not installed: run scripts/install-label-studio"
    data_dir = tmp_path_factory.mktemp("label-studio")
    account = Account("curator@example.com", secrets.token_hex(8), token=secrets.token_hex(20))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port, account)
    try:
        wait_until_up(server, url, data_dir)
        yield StudioServer(url, account.token, account.username, account.password)
    finally:
        stop_server(server)


@contextmanager
def chromium_page(*args: str, **page_options):
    """A page of headless Chromium, driven by Playwright; the browser is closed whatever happens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", *args])
        try:
            yield browser.new_page(**page_options)
        finally:
            browser.close()


def sign_in(page, url: str, email: str, password: str) -> None:
    """Label Studio's sign-in form, as a person fills it."""
    page.goto(url + "/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
