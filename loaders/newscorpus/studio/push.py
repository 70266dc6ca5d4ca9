"""`studio push`: one task per article that is new or changed since it was last pushed.

A changed article whose earlier task was annotated goes out with a prediction: the labels that
carry onto its new text (carry.py), resolved as a release would resolve them, so the annotator
confirms and fixes instead of redrawing. The annotator's submission then supersedes the old task.
"""

from __future__ import annotations

from collections import Counter

from .. import progress
from ..carry import TaskChange
from ..corpus import articles_by_id, iter_articles
from ..exports import iter_export_tasks, text_digest
from ..layout import Layout
from ..problems import InputError, Report
from ..resolve import Resolved, latest_per_annotator, resolve_gold
from ..taxonomy import Taxonomy, load_taxonomy
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
        digests = check_corpus(layout, report)
    if not report.valid:
        raise InputError(report, "nothing was pushed: the corpus is invalid")
    taxonomy = load_taxonomy(layout)
    project = studio.ensure_project(project_title, labeling_config(taxonomy))
    with progress.stage("listing tasks", unit="tasks"):
        existing = studio.task_keys(project.id, lambda data: push_key(data.get("article_id"), data.get("text", ""), data.get("title", "")))
    pending = {r["id"] for r in iter_articles(layout) if push_key(r["id"], r["text"], r["title"]) not in existing}
    with progress.stage("carrying labels forward", total=progress.total_bytes(layout.exports()), unit="tasks"):
        predictions = carried_predictions(layout, taxonomy, digests, pending) if pending else {}
    batch, pushed = [], 0
    for record in progress.tracked(iter_articles(layout), "importing tasks", total=report.counts["articles"]):
        if record["id"] not in pending:
            continue
        task = {"data": {"article_id": record["id"], "title": record["title"], "text": record["text"]}}
        if record["id"] in predictions:
            task["predictions"] = [predictions[record["id"]]]
        batch.append(task)
        if len(batch) == IMPORT_BATCH:
            studio.call("importing tasks", lambda b=batch: studio.client.projects.import_tasks(id=project.id, request=b))
            pushed, batch = pushed + len(batch), []
    if batch:
        studio.call("importing tasks", lambda: studio.client.projects.import_tasks(id=project.id, request=batch))
        pushed += len(batch)
    return pushed, len(digests) - pushed


def carried_predictions(layout: Layout, taxonomy: Taxonomy, digests: dict, pending: set[str]) -> dict[str, dict]:
    """article id -> a Label Studio prediction, for each pending article that its newest export holds
    only as stale tasks: the spans that carry (those touching an edit are left for the annotator)."""
    found = {}
    for file, outcomes in iter_export_tasks(layout, taxonomy, digests, Report()):
        stale_tasks = {}
        for article_id, tasks in outcomes.items():
            submitted = any(not r.cancelled for t in tasks if t.current for r in t.records)
            if article_id in pending and not submitted:
                stale_tasks[article_id] = [t for t in tasks if t.current is False]
        articles = articles_by_id(layout, {a for a, tasks in stale_tasks.items() if tasks})
        for article_id, article in articles.items():
            stale = stale_tasks[article_id]
            carried = [TaskChange.between(t.seen, article).carry(r)[0] for t in stale for r in t.records]
            gold = resolve_gold(article_id, latest_per_annotator(carried), Counter())
            if gold.method != "none":
                source = f"carried-forward:{file}#" + "+".join(f"task{t.task_id}" for t in stale)
                found[article_id] = {"model_version": source, "result": prediction_results(gold, taxonomy)}
    return found


def prediction_results(gold: Resolved, taxonomy: Taxonomy) -> list[dict]:
    """Resolved labels as Label Studio results on the project's controls, relations between their regions."""
    results = []

    def region_id(obj: str, span) -> str:
        return f"{obj}-{span.start}-{span.end}-{span.label}"

    for spans, control, obj in ((gold.title_entities, taxonomy.title_control, taxonomy.title_object),
                                (gold.entities, taxonomy.entity_control, taxonomy.entity_object)):
        for span in spans:
            results.append({"id": region_id(obj, span), "from_name": control, "to_name": obj, "type": "labels",
                            "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]}})
    if gold.topics:
        results.append({"id": "topics", "from_name": taxonomy.topic_control, "to_name": taxonomy.topic_object, "type": "choices",
                        "value": {"choices": gold.topics}})
    for relation in gold.relations:
        results.append({"from_id": region_id(taxonomy.entity_object, relation.head), "to_id": region_id(taxonomy.entity_object, relation.tail),
                        "type": "relation", "direction": "right", "labels": [relation.label]})
    return results
