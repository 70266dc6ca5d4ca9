"""The annotations agreement is measured on: a release's `annotations` config, or the working tree's
exports as `build` resolves them. Either way annotators appear only as the release's pseudonyms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from ..annotators import Pseudonyms, load_or_create_key
from ..corpus import iter_articles
from ..exports.records import AnnotationRecord, Relation, Span
from ..layout import Layout
from ..problems import CommandError
from ..resolve import annotation_from_store
from ..release.manifest import config_batches, config_columns, config_features
from ..validate import valid_annotations
from .measures import AnnotatedArticle, LabelNames

ANNOTATION_COLUMNS = ["article_id", "task_id", "annotation_id", "annotator", "ground_truth", "was_cancelled", "entities", "title_entities", "topics",
                      "export", "relations", "review"]


def working_tree_articles(layout: Layout) -> tuple[LabelNames, int, Iterator[AnnotatedArticle]]:
    """The label names, the number of annotations, and every annotated article with its current
    annotations (reviews included) in corpus order, after the corpus validates. The annotations
    are held; each article's text is read as its turn comes, never the whole corpus at once."""
    taxonomy, collected = valid_annotations(layout, "agreement was not measured")
    pseudonyms = Pseudonyms(load_or_create_key(layout))

    def articles() -> Iterator[AnnotatedArticle]:
        for record in iter_articles(layout):
            found = collected.pop(record["id"], None)
            if found is not None:
                yield AnnotatedArticle(record["id"], record["title"], record["text"],
                                       [replace(r, annotator=pseudonyms.of(r.annotator, r.article_id)) for r in found])

    return LabelNames.of(taxonomy), sum(map(len, collected.values())), articles()


def stored_articles(records: list[dict], resolved: list[tuple[dict, list[dict]] | None], pseudonyms: Pseudonyms) -> Iterator[AnnotatedArticle]:
    """A build's chunk of articles with their stored annotations (resolve.ResolvedStore), annotators as the release names them."""
    for record, found in zip(records, resolved):
        if found is not None:
            annotations = [annotation_from_store(a) for a in found[1]]
            yield AnnotatedArticle(record["id"], record["title"], record["text"],
                                   [replace(a, annotator=pseudonyms.of(a.annotator, a.article_id)) for a in annotations])


def release_label_names(release_dir: Path) -> LabelNames:
    """The label names of a release, from the features its `annotations` files carry."""
    features = config_features(release_dir, "annotations")
    if not features:
        return LabelNames([], [])
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
        for record in batch_records(batch, labels):
            if record.article_id != article_id:
                if records:
                    yield with_text(article_id, records, texts, release_dir)
                article_id, records = record.article_id, []
            records.append(record)
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


def span_lists(column, names: list[str]) -> list[list[Span]]:
    """A column of span lists as Spans, a column at a time: no Python dict per span."""
    values = column.flatten()
    spans = list(map(Span, values.field("start").to_pylist(), values.field("end").to_pylist(),
                     [names[i] for i in values.field("label").to_pylist()], values.field("text").to_pylist()))
    ends = np.cumsum(pc.list_value_length(column).fill_null(0).to_numpy()).tolist()
    return [spans[start:end] for start, end in zip([0, *ends[:-1]], ends)]


def batch_records(batch, labels: LabelNames) -> list[AnnotationRecord]:
    """A batch of `annotations` rows as records, with label names for ClassLabel ids."""
    column = {name: batch.column(name) for name in batch.schema.names}
    plain = {name: column[name].to_pylist() for name in ("article_id", "task_id", "annotation_id", "annotator", "ground_truth", "was_cancelled", "export")}
    reviews = column["review"].to_pylist() if "review" in column else [False] * batch.num_rows
    entities, title_entities = span_lists(column["entities"], labels.entities), span_lists(column["title_entities"], labels.entities)
    topics = column["topics"].to_pylist()
    relations = column["relations"].to_pylist() if "relations" in column else [[]] * batch.num_rows
    return [AnnotationRecord(
        article_id=article_id, task_id=task_id, annotation_id=annotation_id, annotator=annotator, ground_truth=ground_truth, cancelled=cancelled,
        export=export, entities=spans, title_entities=title_spans, topics=[labels.topics[t] for t in chosen],
        relations=[Relation(spans[r["head"]], spans[r["tail"]], labels.relations[r["label"]]) for r in linked], review=bool(review))
        for article_id, task_id, annotation_id, annotator, ground_truth, cancelled, export, spans, title_spans, chosen, linked, review in zip(
            *plain.values(), entities, title_entities, topics, relations, reviews)]
