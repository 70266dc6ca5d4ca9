"""`studio push`: one task per article that is new or changed since it was last pushed."""

from __future__ import annotations

from ..exports import text_digest
from ..corpus import iter_articles
from ..layout import Layout
from ..problems import InputError, Report
from ..taxonomy import load_taxonomy
from ..validate import check_corpus
from .client import Studio
from .config import labeling_config

IMPORT_BATCH = 500


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
    existing = {push_key(t.data.get("article_id"), t.data.get("text", ""), t.data.get("title", "")) for t in studio.tasks(project.id) if t.data}
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
