"""`studio review`: articles whose annotators disagree, queued in a review project beside the
annotation project ("<project> review").

A review task shows the article with the union of its annotators' spans and topics as a prediction,
each region's meta and score giving its votes, so a reviewer deletes rather than redraws. A
reviewer's submitted annotation, brought back by `studio pull`, is gold for the article (resolve.py).

The task keeps the votes it was made from in its data (`data.review`). When the article's
annotations change after that (one edited, added or removed), the review is outdated: running
review again queues the article anew with the new votes, and the old review stays gold until a
reviewer submits the new task.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

from .. import progress
from ..corpus import iter_articles
from ..exports.records import AnnotationRecord
from ..layout import Layout
from ..resolve import majority_links, reviewed_votes, spans_of, voters_and_reviews, votes_of
from ..taxonomy import Taxonomy
from ..validate import valid_annotations
from .client import Studio
from .config import labeling_config
from .predictions import PredictedSpan, prediction, prediction_results
from .push import import_tasks, push_key, task_key

REVIEW_MODEL_VERSION = "newscorpus-review-union"


def review_project_title(project_title: str) -> str:
    return f"{project_title} review"


def disagreements(annotations: dict[str, list[AnnotationRecord]]) -> Iterator[tuple[str, list[AnnotationRecord]]]:
    """(article id, its voting annotations) where no ground truth settles the article and either
    annotators disagree on a span or a topic and no review has settled it, or its latest review
    was made from other votes than these."""
    for article_id, records in annotations.items():
        voters, reviews = voters_and_reviews(records)
        if not voters or any(r.ground_truth for r in voters):
            continue
        if reviews:
            latest = max(reviews, key=lambda r: r.annotation_id)
            made_from = reviewed_votes(latest.reviewed.votes) if latest.reviewed else None
            if made_from is not None and made_from != votes_of(voters):
                yield article_id, voters
        elif len(voters) >= 2 and (len({frozenset(spans_of(r)) for r in voters}) > 1 or len({frozenset(r.topics) for r in voters}) > 1):
            yield article_id, voters


def votes_note(voters: list[str], total: int) -> str:
    return f"{len(voters)} of {total} annotators: {', '.join(voters)}"


def review_task(taxonomy: Taxonomy, article: dict, project_title: str, voters: list[AnnotationRecord]) -> dict:
    """The task a reviewer sees: the article, every annotator's labels as one prediction, the votes;
    a span's link is the one a strict majority of the annotators who marked it gave."""
    span_votes: dict[tuple, list[str]] = defaultdict(list)
    topic_votes: dict[str, list[str]] = defaultdict(list)
    for record in voters:
        for part, span in spans_of(record):
            span_votes[(part, span)].append(record.annotator)
        for topic in sorted(set(record.topics)):
            topic_votes[topic].append(record.annotator)
    total = len(voters)
    ordered = sorted(span_votes.items(), key=lambda item: (item[0][0] != "title", item[0][1].start, -item[0][1].end, item[0][1].label))
    links = majority_links(voters, [span for (part, span), _ in ordered if part == "text"], Counter()) if any(r.links for r in voters) else {}
    spans = [PredictedSpan(part, span, len(who) / total, votes_note(who, total), links.get(span) if part == "text" else None) for (part, span), who in ordered]
    topics = sorted(topic_votes)
    topics_note = "; ".join(f"{topic}: {len(topic_votes[topic])} of {total}" for topic in topics)
    votes = {
        "project": project_title,
        "tasks": sorted({r.task_id for r in voters}),
        "annotations": [r.annotation_id for r in voters],
        "annotators": [r.annotator for r in voters],
        "spans": [{"part": part, "start": span.start, "end": span.end, "label": span.label, "text": span.text, "votes": who}
                  for (part, span), who in ordered],
        "topics": {topic: topic_votes[topic] for topic in topics},
    }
    return {"data": {"article_id": article["id"], "title": article["title"], "text": article["text"], "review": votes},
            "predictions": [prediction(REVIEW_MODEL_VERSION, prediction_results(taxonomy, spans, topics, topics_note))]}


def review_key(data: dict) -> tuple:
    """A review task is the same when it shows the same text and title with the same votes."""
    return task_key(data), reviewed_votes(data.get("review"))


def review(layout: Layout, project_title: str, studio: Studio | None = None) -> tuple[int, int]:
    """Queue every new disagreement in the review project; returns (queued, already queued).

    An article is queued once per text, title and votes: running review again adds only articles
    that were not queued yet, or whose text or annotations changed since.
    """
    studio = studio or Studio()
    taxonomy, annotations = valid_annotations(layout, "nothing was queued for review")
    found = dict(disagreements(annotations))
    if not found:
        return 0, 0
    project = studio.ensure_project(review_project_title(project_title), labeling_config(taxonomy))
    with progress.stage("listing tasks", unit="tasks"):
        queued = studio.task_keys(project.id, review_key)
    tasks, already = [], 0
    for article in iter_articles(layout):
        voters = found.get(article["id"])
        if voters is None:
            continue
        if (push_key(article["id"], article["text"], article["title"]), votes_of(voters)) in queued:
            already += 1
            continue
        tasks.append(review_task(taxonomy, article, project_title, voters))
    return import_tasks(studio, project.id, tasks), already
