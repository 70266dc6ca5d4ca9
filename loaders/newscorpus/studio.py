"""Label Studio: the labeling config from the taxonomy, and the push / pull of tasks and annotations.

The server and token come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY only. The token is never
written anywhere: every error message is built here from the URL and the HTTP status, and any
text that came back from the server is scrubbed of it first.
"""

from __future__ import annotations

import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import httpx
import orjson
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.label_interface import LabelInterface

from .exports import iter_current_annotations, text_digest
from .ingest import iter_articles, write_atomically
from .layout import Layout
from .problems import CommandError, InputError, Report
from .taxonomy import Taxonomy, load_taxonomy
from .validate import check_corpus

T = TypeVar("T")
IMPORT_BATCH = 500
RETRIES = 3


def labeling_config(taxonomy: Taxonomy) -> str:
    """The Label Studio XML: entity Labels on title and text, topic Choices, guidelines as hints."""
    view = ET.Element("View")

    def labels(control: str, obj: str):
        tag = ET.SubElement(view, "Labels", name=control, toName=obj)
        for label in taxonomy.entity_labels:
            attrs = {"value": label.name}
            if label.description:
                attrs["hint"] = label.description
            ET.SubElement(tag, "Label", attrs)

    if taxonomy.title_control and taxonomy.title_object:
        ET.SubElement(view, "Header", value="Title")
        labels(taxonomy.title_control, taxonomy.title_object)
        ET.SubElement(view, "Text", name=taxonomy.title_object, value=f"${taxonomy.title_object}")
    ET.SubElement(view, "Header", value="Article")
    labels(taxonomy.entity_control, taxonomy.entity_object)
    ET.SubElement(view, "Text", name=taxonomy.entity_object, value=f"${taxonomy.entity_object}")
    ET.SubElement(view, "Header", value="Topics")
    choices = ET.SubElement(view, "Choices", name=taxonomy.topic_control, toName=taxonomy.topic_object, choice="multiple", showInline="false")
    for topic in taxonomy.topic_labels:
        attrs = {"value": topic.name}
        hint = " ".join(x for x in (topic.code, topic.description) if x)
        if hint:
            attrs["hint"] = hint
        ET.SubElement(choices, "Choice", attrs)
    ET.indent(view)
    xml = ET.tostring(view, encoding="unicode")
    LabelInterface(xml)  # raises on a config Label Studio would refuse
    return xml


class Studio:
    """A Label Studio server reached with the environment's URL and token."""

    def __init__(self, url: str | None = None, token: str | None = None):
        self.url = (url or os.environ.get("LABEL_STUDIO_URL") or "").rstrip("/")
        self._token = token or os.environ.get("LABEL_STUDIO_API_KEY") or ""
        if not self.url or not self._token:
            raise CommandError("set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY in the environment")
        self.client = LabelStudio(base_url=self.url, api_key=self._token, timeout=120)

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def call(self, what: str, action: Callable[[], T], retry: bool = False) -> T:
        """Run one API call; failures become a CommandError naming the URL and status. Reads retry."""
        for attempt in range(RETRIES if retry else 1):
            try:
                return action()
            except ApiError as err:
                status = err.status_code
                if retry and status is not None and status >= 500 and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                body = self.scrub(str(err.body))[:300]
                raise CommandError(f"{what}: {self.url} answered HTTP {status}: {body}") from None
            except (httpx.TransportError, OSError) as err:
                if retry and attempt + 1 < RETRIES:
                    time.sleep(1 + attempt)
                    continue
                raise CommandError(f"{what}: cannot reach {self.url} ({type(err).__name__}: {self.scrub(str(err))[:200]})") from None
        raise AssertionError("unreachable")

    def find_project(self, title: str):
        projects = self.call("listing projects", lambda: list(self.client.projects.list(title=title)), retry=True)
        exact = [p for p in projects if p.title == title]
        return min(exact, key=lambda p: p.id) if exact else None

    def ensure_project(self, title: str, label_config: str):
        project = self.find_project(title)
        if project is None:
            return self.call("creating the project", lambda: self.client.projects.create(title=title, label_config=label_config))
        if (project.label_config or "").strip() != label_config.strip():
            self.call("updating the labeling config", lambda: self.client.projects.update(id=project.id, label_config=label_config))
        return project

    def task_keys(self, project_id: int) -> set[tuple]:
        """The push key of every task in the project (see `push_key`)."""
        tasks = self.call("listing tasks", lambda: list(self.client.tasks.list(project=project_id, fields="all")), retry=True)
        return {push_key(t.data.get("article_id"), t.data.get("text", ""), t.data.get("title", "")) for t in tasks if t.data}

    def export(self, project_id: int) -> bytes:
        return self.call(
            "exporting the project",
            lambda: b"".join(self.client.projects.exports.download_sync(id=project_id, export_type="JSON", download_all_tasks=True)),
            retry=True,
        )


def push_key(article_id: str, text: str, title: str) -> tuple:
    """An article needs a new task when its text or its title changed: exactly what makes a task stale."""
    return article_id, text_digest(text), text_digest(title)


def push(layout: Layout, project_title: str, studio: Studio | None = None) -> tuple[int, int]:
    """Import one task per article that is new or whose text changed; returns (pushed, unchanged)."""
    studio = studio or Studio()
    report = Report()
    check_corpus(layout, report)
    if not report.valid:
        raise InputError(report, "nothing was pushed: the corpus is invalid")
    project = studio.ensure_project(project_title, labeling_config(load_taxonomy(layout)))
    existing = studio.task_keys(project.id)
    batch, pushed, unchanged = [], 0, 0
    for record in iter_articles(layout):
        if push_key(record["id"], record["text"], record["title"]) in existing:
            unchanged += 1
            continue
        batch.append({"article_id": record["id"], "title": record["title"], "text": record["text"]})
        if len(batch) == IMPORT_BATCH:
            studio.call("importing tasks", lambda b=batch: studio.client.projects.import_tasks(id=project.id, request=b))
            pushed, batch = pushed + len(batch), []
    if batch:
        studio.call("importing tasks", lambda: studio.client.projects.import_tasks(id=project.id, request=batch))
        pushed += len(batch)
    return pushed, unchanged


def project_folder(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


def pull(layout: Layout, project_title: str, studio: Studio | None = None, now: datetime | None = None) -> Path | None:
    """Export the project into annotations/<project>/<UTC time>.json after it validates; None if unchanged."""
    studio = studio or Studio()
    project = studio.find_project(project_title)
    if project is None:
        raise CommandError(f"no project titled {project_title!r} on {studio.url}; run `newscorpus studio push` first")
    raw = studio.export(project.id)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = layout.annotations_dir / project_folder(project_title) / f"{stamp}.json"
    previous = [p for p in layout.exports() if p.parent == target.parent]
    if previous and orjson.loads(previous[-1].read_bytes()) == orjson.loads(raw):
        return None
    staged = target.with_name(f".{target.name}.part")
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(staged, raw)
        report = Report()
        digests = check_corpus(layout, report)
        for _ in iter_current_annotations(layout, load_taxonomy(layout), digests, report, exports=[staged]):
            pass
        if not report.valid:
            raise InputError(report, "the export was not written: it does not validate")
        if target.exists():
            raise CommandError(f"{layout.relative(target)} exists; pull again in a second")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target
