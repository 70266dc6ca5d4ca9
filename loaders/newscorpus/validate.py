"""Validate: the corpus, the taxonomy and the annotations, against the schemas and each other.

One pass over each input. Checks a schema cannot express (unique ids, NFC, tasks that name real
articles with the same text, spans that fit their text, labels in the taxonomy) run here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from . import progress
from .exports import AnnotationRecord, ArticleDigest, iter_current_annotations
from .corpus import iter_shard, text_digest
from .layout import Layout
from .problems import InputError, Problem, Report
from .schemas import SchemaCheck
from .settings import check_release_settings
from .taxonomy import Taxonomy, check_taxonomy

AnnotationSink = Callable[[str, list[AnnotationRecord]], None]
ArticleSink = Callable[[dict], None]


def check_corpus(layout: Layout, report: Report, on_article: ArticleSink | None = None) -> dict[str, ArticleDigest]:
    """Checks every article; returns id -> digest of text and title for the annotation checks."""
    schema = SchemaCheck(layout.schema_path("article.schema.json"))
    first_seen: dict[str, str] = {}
    digests: dict[str, ArticleDigest] = {}
    for path in layout.shards():
        file = layout.relative(path)
        for line, record, problem in iter_shard(path, file):
            report.counts["articles"] += 1
            progress.advance()
            if problem:
                report.add(problem)
                continue
            errors = schema.errors(record)
            report.extend(Problem("schema-error", file, message, line=line, pointer=pointer) for pointer, message in errors)
            if errors:
                continue
            article_id = record["id"]
            if article_id in first_seen:
                report.add(Problem("duplicate-id", file, f"id {article_id!r} is already used at {first_seen[article_id]}", line=line, pointer="/id"))
                continue
            first_seen[article_id] = f"{file}:{line}"
            for key in ("title", "text"):
                if not unicodedata.is_normalized("NFC", record[key]):
                    report.add(Problem("text-not-nfc", file, f"{key} is not in Unicode NFC; normalise it (newscorpus add does)", line=line, pointer=f"/{key}"))
            digests[article_id] = ArticleDigest(text_digest(record["text"]), text_digest(record["title"]))
            if on_article is not None:
                on_article(record)
    return digests


def carries_stale_tasks(settings: dict | None) -> bool:
    """Whether the labels of a task whose article changed since export are carried to the new text:
    `stale_tasks` in corpus/release.json, "carry" (the default) or "error"."""
    return (settings or {}).get("stale_tasks", "carry") == "carry"


def validate(
    layout: Layout, on_annotations: AnnotationSink | None = None, on_article: ArticleSink | None = None
) -> tuple[Report, Taxonomy | None]:
    """The whole corpus, in one pass per input. The hooks receive each valid article and each
    article's current annotations as they pass, so a build needs no pass of its own."""
    report = Report()
    taxonomy, problems = check_taxonomy(layout)
    report.extend(problems)
    settings, problems = check_release_settings(layout)
    report.extend(problems)
    with progress.stage("checking articles", total=progress.count_lines(layout.shards())):
        digests = check_corpus(layout, report, on_article)
    if taxonomy is None:
        return report, None
    carry = carries_stale_tasks(settings)
    with progress.stage("checking annotations", total=progress.total_bytes(layout.exports()), unit="tasks"):
        for article_id, records in iter_current_annotations(layout, taxonomy, digests, report, carry=carry):
            if on_annotations is not None:
                on_annotations(article_id, records)
    return report, taxonomy


def valid_annotations(layout: Layout, refused: str) -> tuple[Taxonomy, dict[str, list[AnnotationRecord]]]:
    """Every article's current annotations (its reviews included), after the whole corpus validates.

    For commands that act on annotations as a release would see them; `refused` says what was not
    done when the inputs are invalid.
    """
    collected: dict[str, list[AnnotationRecord]] = {}
    report, taxonomy = validate(layout, on_annotations=lambda article_id, records: collected.setdefault(article_id, []).extend(records))
    if not report.valid or taxonomy is None:
        raise InputError(report, f"{refused}: the inputs are invalid")
    return taxonomy, collected
