"""The annotations agreement is measured on: a release's `annotations` config, or the working tree's
exports as `build` resolves them. Either way annotators appear only as the release's pseudonyms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from ..annotators import Pseudonyms, load_or_create_key
from ..corpus import articles_by_id
from ..exports.records import AnnotationRecord, Relation, Span
from ..layout import Layout
from ..problems import CommandError
from ..release.manifest import config_batches, config_columns
from ..validate import valid_annotations
from .measures import AnnotatedArticle, LabelNames

ANNOTATION_COLUMNS = ["article_id", "task_id", "annotation_id", "annotator", "ground_truth", "was_cancelled", "entities", "title_entities", "topics",
                      "export", "relations", "review"]


def working_tree_articles(layout: Layout) -> tuple[LabelNames, list[AnnotatedArticle]]:
    """Every annotated article of the corpus with its current annotations (reviews included), after the corpus validates."""
    taxonomy, collected = valid_annotations(layout, "agreement was not measured")
    pseudonyms = Pseudonyms(load_or_create_key(layout))
    records = articles_by_id(layout, set(collected))
    articles = [AnnotatedArticle(article_id, records[article_id]["title"], records[article_id]["text"],
                                 [replace(r, annotator=pseudonyms.of(r.annotator, article_id)) for r in found])
                for article_id, found in sorted(collected.items())]
    return LabelNames(taxonomy.entity_names, taxonomy.topic_names, taxonomy.relation_names), articles


def release_label_names(release_dir: Path) -> LabelNames:
    """The label names of a release, from the features its `annotations` files carry."""
    first = next(iter(sorted((release_dir / "annotations").glob("*.parquet"))), None)
    if first is None:
        return LabelNames([], [])
    features = datasets.Features.from_arrow_schema(pq.read_schema(first))
    relations = features["relations"].feature["label"].names if "relations" in features else []
    return LabelNames(features["entities"].feature["label"].names, features["topics"].feature.names, relations)


def release_articles(release_dir: Path) -> tuple[LabelNames, Iterator[AnnotatedArticle]]:
    """The articles of a release with their annotations, read from `annotations` and `articles` a batch at a time.

    Both configs are written from the same chunks of each split, so an article's annotation rows
    lie together and the articles come in the same order in both: they are read side by side.
    """
    labels = release_label_names(release_dir)
    return labels, zip_articles(release_dir, labels)


def zip_articles(release_dir: Path, labels: LabelNames) -> Iterator[AnnotatedArticle]:
    present = set(config_columns(release_dir, "annotations"))
    columns = [c for c in ANNOTATION_COLUMNS if c in present]
    texts = article_texts(release_dir)
    article_id, records = None, []
    for batch in config_batches(release_dir, "annotations", columns):
        for row in batch.to_pylist():
            if row["article_id"] != article_id:
                if records:
                    yield with_text(article_id, records, texts, release_dir)
                article_id, records = row["article_id"], []
            records.append(annotation_record(row, labels))
    if records:
        yield with_text(article_id, records, texts, release_dir)


def article_texts(release_dir: Path) -> Iterator[tuple[str, str, str]]:
    for batch in config_batches(release_dir, "articles", ["id", "title", "text"]):
        yield from zip(*(batch.column(c).to_pylist() for c in ("id", "title", "text")))


def with_text(article_id: str, records: list[AnnotationRecord], texts: Iterator[tuple[str, str, str]], release_dir: Path) -> AnnotatedArticle:
    for found, title, text in texts:
        if found == article_id:
            return AnnotatedArticle(article_id, title, text, records)
    raise CommandError(f"{release_dir}: article {article_id!r} of `annotations` is not in `articles` (or not in the same order); "
                       "the release is damaged (`newscorpus verify` it)")


def annotation_record(row: dict, labels: LabelNames) -> AnnotationRecord:
    def spans(key: str) -> list[Span]:
        return [Span(s["start"], s["end"], labels.entities[s["label"]], s["text"]) for s in row[key]]

    entities = spans("entities")
    relations = [Relation(entities[r["head"]], entities[r["tail"]], labels.relations[r["label"]]) for r in row.get("relations") or []]
    return AnnotationRecord(
        article_id=row["article_id"], task_id=row["task_id"], annotation_id=row["annotation_id"], annotator=row["annotator"],
        ground_truth=row["ground_truth"], cancelled=row["was_cancelled"], export=row["export"], entities=entities,
        title_entities=spans("title_entities"), topics=[labels.topics[t] for t in row["topics"]], relations=relations,
        review=bool(row.get("review")),
    )
