"""`studio push`: one task per article that is new or changed since it was last pushed, with
predictions attached: the labels that carry onto a corrected article's new text (exports/carry.py), and,
when asked, the corpus's own gold and a model's JSONL file.

A corrected article's carried labels are resolved as a release would resolve them, so the
annotator confirms and fixes instead of redrawing; the submission then supersedes the old task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import progress
from ..exports.carry import TaskChange
from ..corpus import articles_by_id, iter_articles, text_digest
from ..exports.records import ArticleDigest
from ..exports.supersession import ArticleTasks, iter_export_tasks
from ..layout import Layout
from ..problems import CommandError, InputError, Problem, Report
from ..resolve import latest_per_annotator, resolve_gold, voters_and_reviews
from ..taxonomy import Taxonomy, load_taxonomy
from ..validate import check_corpus, valid_annotations
from .client import Studio
from .config import labeling_config
from .predictions import (
    GOLD_MODEL_VERSION,
    FilePrediction,
    PredictedSpan,
    GoldDocument,
    GoldLexicon,
    check_against_article,
    file_predictions_by_version,
    prediction,
    prediction_results,
    read_prediction_file,
)

IMPORT_BATCH = 500


@dataclass
class PushSummary:
    pushed: int = 0
    unchanged: int = 0
    predictions: int = 0  # Label Studio predictions attached to the pushed tasks
    predictions_not_sent: int = 0  # file predictions of articles that were not pushed (already in the project)


def push_key(article_id: str, text: str, title: str) -> tuple:
    """An article needs a new task when its text or its title changed: exactly what makes a task stale."""
    return article_id, text_digest(text), text_digest(title)


def import_tasks(studio: Studio, project_id: int, tasks: Iterable[dict]) -> int:
    """Import the tasks in batches, as they come; returns how many. A batch that fails (the server
    died) ends the push with how many went in before it: the next push sends only the rest."""
    count, batch = 0, []

    def send(batch: list[dict]) -> int:
        try:
            studio.call("importing tasks", lambda: studio.client.projects.import_tasks(id=project_id, request=batch))
        except CommandError as err:
            raise CommandError(f"{err}; {count} tasks of this push went in before it failed: push again to send the rest "
                               "(articles whose task is in the project are not sent twice)") from None
        return len(batch)

    for task in tasks:
        batch.append(task)
        if len(batch) == IMPORT_BATCH:
            count, batch = count + send(batch), []
    if batch:
        count += send(batch)
    return count


def task_key(data: dict) -> tuple:
    return push_key(data.get("article_id"), data.get("text", ""), data.get("title", ""))


def show_every_prediction(studio: Studio, project_id: int, model_versions: set[str]) -> None:
    """Label Studio shows annotators only the predictions of the project's `model_version`, which an
    import sets to the version it brought. When the project then holds another version too, the
    filter is cleared so that every source is shown (at a price: an annotation's export then names
    its parent prediction by id only, without the model version)."""
    project = studio.call("reading the project", lambda: studio.client.projects.get(id=project_id), retry=True)
    if project.model_version and model_versions != {project.model_version}:
        studio.call("updating the project", lambda: studio.client.projects.update(id=project_id, model_version=""))


def push(layout: Layout, project_title: str, studio: Studio | None = None, pre_annotate: bool = False,
         predictions_file: Path | None = None, min_score: float = 0.0) -> PushSummary:
    """Import one task per article that is new or whose text or title changed, with its predictions."""
    studio = studio or Studio()
    taxonomy = load_taxonomy(layout)
    from_file, digests, report = checked_file_predictions(layout, taxonomy, predictions_file)
    if not report.valid:
        bad_predictions = predictions_file and any(p.file == layout.relative(predictions_file) for p in report.errors)
        raise InputError(report, "nothing was pushed: " + ("the predictions are invalid" if bad_predictions else "the corpus is invalid"))
    lexicon = gold_lexicon(layout, taxonomy) if pre_annotate else None
    project = studio.ensure_project(project_title, labeling_config(taxonomy))
    with progress.stage("listing tasks", unit="tasks"):
        existing = studio.task_keys(project.id, task_key)
    pending = {r["id"] for r in iter_articles(layout) if push_key(r["id"], r["text"], r["title"]) not in existing}
    with progress.stage("carrying labels forward", total=progress.total_bytes(layout.exports()), unit="tasks"):
        carried = carried_predictions(layout, taxonomy, digests, pending) if pending else {}
    summary, versions = PushSummary(), set()

    def new_tasks():
        for record in progress.tracked(iter_articles(layout), "importing tasks", total=report.counts["articles"]):
            if push_key(record["id"], record["text"], record["title"]) in existing:
                summary.unchanged += 1
                summary.predictions_not_sent += len(from_file.get(record["id"], []))
                continue
            task = {"data": {"article_id": record["id"], "title": record["title"], "text": record["text"]}}
            predictions = [carried[record["id"]]] if record["id"] in carried else []
            predictions += article_predictions(record, taxonomy, lexicon, min_score, from_file.get(record["id"], []))
            if predictions:
                task["predictions"] = predictions
                versions.update(p["model_version"] for p in predictions)
                summary.predictions += len(predictions)
            yield task

    summary.pushed = import_tasks(studio, project.id, new_tasks())
    if versions:
        show_every_prediction(studio, project.id, versions)
    return summary


def article_predictions(record: dict, taxonomy: Taxonomy, lexicon: GoldLexicon | None, min_score: float, from_file: list[FilePrediction]) -> list[dict]:
    """The Label Studio predictions of one new task: the gold lexicon's, then one per model version of the file."""
    predictions = []
    if lexicon is not None:
        spans = [*lexicon.predict(record["title"], "title", min_score), *lexicon.predict(record["text"], "text", min_score)]
        results = prediction_results(taxonomy, spans)
        if results:
            predictions.append(prediction(GOLD_MODEL_VERSION, results))
    for version, spans in file_predictions_by_version(from_file).items():
        predictions.append(prediction(version, prediction_results(taxonomy, spans)))
    return predictions


def checked_file_predictions(layout: Layout, taxonomy: Taxonomy, path: Path | None) -> tuple[dict[str, list[FilePrediction]], dict[str, ArticleDigest], Report]:
    """The corpus checked (its digests), and with it the predictions file, if any: every span against its article."""
    report = Report()
    found, problems = read_prediction_file(layout, path, taxonomy) if path else ({}, [])
    report.extend(problems)
    file = layout.relative(path) if path else ""
    checked: dict[str, list[FilePrediction]] = {}

    def check(article: dict) -> None:
        if article["id"] in found:
            checked[article["id"]], problems = check_against_article(found[article["id"]], article, file)
            report.extend(problems)

    with progress.stage("checking articles", total=progress.count_lines(layout.shards())):
        digests = check_corpus(layout, report, on_article=check)
    for article_id in sorted(found.keys() - checked.keys()):
        first = found[article_id][0]
        report.add(Problem("prediction-unknown-article", file, f"article {article_id!r} is not in the corpus", line=first.line, pointer="/article_id"))
    if path:
        report.counts["predictions"] = sum(len(v) for v in found.values())
    return checked, digests, report


def carried_predictions(layout: Layout, taxonomy: Taxonomy, digests: dict[str, ArticleDigest], pending: set[str]) -> dict[str, dict]:
    """article id -> a Label Studio prediction, for each pending article that its newest export holds
    only as stale tasks: the spans that carry (those touching an edit are left for the annotator)."""
    found = {}
    stale_tasks: dict[str, list] = {}
    for item in iter_export_tasks(layout, taxonomy, digests, Report()):
        if isinstance(item, ArticleTasks):
            submitted = any(not r.cancelled for t in item.tasks if t.current for r in t.records)
            if item.article_id in pending and not item.review and not submitted:
                stale_tasks[item.article_id] = [t for t in item.tasks if t.current is False]
            continue
        articles = articles_by_id(layout, {a for a, tasks in stale_tasks.items() if tasks})
        for article_id, article in articles.items():
            stale = stale_tasks[article_id]
            moved = [TaskChange.between(t.seen, article).carry(r)[0] for t in stale for r in t.records]
            gold = resolve_gold(article_id, latest_per_annotator(moved), Counter())
            if gold.method != "none":
                spans = [PredictedSpan("title", s) for s in gold.title_entities] + [PredictedSpan("text", s, link=gold.links.get(s)) for s in gold.entities]
                source = f"carried-forward:{item.file}#" + "+".join(f"task{t.task_id}" for t in stale)
                found[article_id] = prediction(source, prediction_results(taxonomy, spans, gold.topics, relations=gold.relations))
        stale_tasks = {}
    return found


def gold_lexicon(layout: Layout, taxonomy: Taxonomy) -> GoldLexicon:
    """The lexicon of the corpus's resolved gold, as a release would resolve it."""
    _, annotations = valid_annotations(layout, "nothing was pushed")
    counts: Counter = Counter()
    gold = {}
    for article_id, records in annotations.items():
        voters, reviews = voters_and_reviews(records)
        resolved = resolve_gold(article_id, voters, counts, reviews)
        if resolved.method != "none":
            gold[article_id] = resolved

    def documents():
        for record in iter_articles(layout):
            resolved = gold.get(record["id"])
            if resolved is not None:
                yield GoldDocument(record["id"], record["text"], record["title"], resolved.entities, resolved.title_entities, resolved.links)

    return GoldLexicon.from_gold(documents, taxonomy.entity_names)
