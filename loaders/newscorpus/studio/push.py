"""`studio push`: one task per article that is new or changed since it was last pushed."""

from __future__ import annotations

from .. import progress
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
    with progress.stage("checking articles", total=progress.count_lines(layout.shards())):
        check_corpus(layout, report)
    if not report.valid:
        raise InputError(report, "nothing was pushed: the corpus is invalid")
    project = studio.ensure_project(project_title, labeling_config(load_taxonomy(layout)))
    with progress.stage("listing tasks", unit="tasks"):
        existing = studio.task_keys(project.id, lambda data: push_key(data.get("article_id"), data.get("text", ""), data.get("title", "")))
    batch, pushed, unchanged = [], 0, 0
    for record in progress.tracked(iter_articles(layout), "importing tasks", total=report.counts["articles"]):
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
