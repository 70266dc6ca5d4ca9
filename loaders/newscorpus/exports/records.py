"""The plain records every stage shares: spans, relations, annotations, and what identifies a task's work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Span(NamedTuple):
    """A labelled stretch of text: a tuple, so the sets that resolution compares hash and compare it in C."""

    start: int
    end: int
    label: str
    text: str


def span_order(span: Span) -> tuple:
    """The order of spans in a release row: by start, the longer first, then by label."""
    return span.start, -span.end, span.label


@dataclass(frozen=True, slots=True)
class Relation:
    """A labelled link between two spans of the article text; `head` is Arg-1 of a directed label."""

    head: Span
    tail: Span
    label: str


@dataclass(frozen=True, slots=True)
class PredictionRef:
    """The prediction an annotation started from: Label Studio's id, and its model version when the export says."""

    id: int
    model_version: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewBasis:
    """What a review task was made from (its `data.review`, as `studio review` wrote it) and where
    the review lies in its export: a review made from other votes than the article's now is outdated."""

    votes: object
    pointer: str


@dataclass(slots=True)
class AnnotationRecord:
    """One annotator's work on one task, as the release's `annotations` config stores it."""

    article_id: str
    task_id: int
    annotation_id: int
    annotator: str  # annotators.annotator_identity: `user:<Label Studio user id>` or `anonymous:<annotation id>`
    ground_truth: bool
    cancelled: bool
    export: str
    entities: list[Span] = field(default_factory=list)
    title_entities: list[Span] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    review: bool = False  # an annotation of a review task (`studio review`): it adjudicates the article
    parent_prediction: PredictionRef | None = None
    carried_forward: bool = False  # the task's text was corrected since; the spans were moved onto the corpus text
    reviewed: ReviewBasis | None = None  # of an annotation of a review task
    links: dict[Span, str] = field(default_factory=dict)  # a text span's id in the taxonomy's knowledge base (taxonomy.links)


@dataclass(frozen=True, slots=True)
class ArticleDigest:
    text: bytes
    title: bytes


def is_review_task(task: dict) -> bool:
    return "review" in task["data"]


def parent_prediction(annotation: dict, task: dict) -> PredictionRef | None:
    """Label Studio exports the parent's id only; its model version is found in the prediction the
    annotator was shown (`annotation.prediction`) or in expanded task predictions, when they match."""
    parent = annotation.get("parent_prediction")
    if not isinstance(parent, int):
        return None
    shown = [annotation.get("prediction")] + [p for p in task.get("predictions", []) if isinstance(p, dict)]
    versions = [p.get("model_version") for p in shown if isinstance(p, dict) and p.get("id") == parent]
    return PredictionRef(parent, next((v for v in versions if isinstance(v, str)), None))


