"""Validate: the corpus, the taxonomy and the annotations, against the schemas and each other.

One pass over each input. Checks a schema cannot express (unique ids, NFC, tasks that name real
articles with the same text, spans that fit their text, labels in the taxonomy) run here.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable

import orjson

from . import progress
from .exports.records import AnnotationRecord, ArticleDigest
from .exports.supersession import iter_current_annotations
from .corpus import iter_lines, iter_shard, text_digest
from .languages import script_mismatch, unknown_language
from .layout import Layout
from .problems import InputError, Problem, Report
from .resolve import ReviewCheck
from .schemas import SchemaCheck, SchemaInvalid
from .settings import check_release_settings
from .split import NearDuplicateIndex, SplitSettings
from .taxonomy import Taxonomy, check_taxonomy
from .workers import WorkerPool, collect_less, pool_size, worker_pool

AnnotationSink = Callable[[str, list[AnnotationRecord]], None]
ArticleSink = Callable[[dict], None]


def check_corpus(layout: Layout, report: Report, on_article: ArticleSink | None = None) -> dict[str, ArticleDigest]:
    """Checks every article; returns id -> digest of text and title for the annotation checks."""
    schema = SchemaCheck.of_corpus(layout, "article.schema.json")
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
            check_language(record, file, line, report)
            digests[article_id] = ArticleDigest(text_digest(record["text"]), text_digest(record["title"]))
            if on_article is not None:
                on_article(record)
    return digests


def check_language(record: dict, file: str, line: int, report: Report) -> None:
    """A tag the registry does not know is an error; letters mostly in scripts the language is not
    written in (an `en` article in Han characters, as `add` or `import` without --language give) a warning."""
    unknown = unknown_language(record["language"])
    if unknown:
        report.add(Problem("unknown-language", file, unknown, line=line, pointer="/language"))
        return
    mismatch = script_mismatch(record["language"], record["title"] + "\n" + record["text"])
    if mismatch:
        report.add(Problem("language-script-mismatch", file, mismatch, line=line, pointer="/language"))


def check_own_schemas(layout: Layout) -> list[Problem]:
    """The corpus's own schema files, each a valid Draft 2020-12 schema: a broken one would make
    every record it checks look wrong."""
    problems = []
    for path in layout.own_schemas():
        try:
            SchemaCheck(path, file=layout.relative(path))
        except SchemaInvalid as err:
            problems.append(err.problem)
    return problems


def carries_stale_tasks(settings: dict | None) -> bool:
    """Whether the labels of a task whose article changed since export are carried to the new text:
    `stale_tasks` in corpus/release.json, "carry" (the default) or "error"."""
    return (settings or {}).get("stale_tasks", "carry") == "carry"


class CorpusOrder:
    """What a build keeps of the corpus check: the ids in corpus order, and the near-duplicate clusters."""

    def __init__(self, split_settings: SplitSettings):
        self.ids: list[str] = []
        self.near_duplicates = NearDuplicateIndex(split_settings)

    def __call__(self, record: dict) -> None:
        self.ids.append(record["id"])
        self.near_duplicates(record)


def checked_corpus(layout: Layout, split_settings: SplitSettings | None) -> tuple[Report, dict[str, ArticleDigest], CorpusOrder | None]:
    """Every article checked (and clustered, for a build)."""
    report = Report()
    order = CorpusOrder(split_settings) if split_settings else None
    digests = check_corpus(layout, report, order)
    if order is not None:
        order.near_duplicates.finish()
    return report, digests, order


def checked_corpus_apart(layout: Layout, split_settings: SplitSettings | None) -> tuple[Report, bytes, CorpusOrder | None]:
    """A worker's corpus check: the digests come back as one fingerprint, not 100,000 objects to keep twice."""
    report, digests, order = progress.uncounted(checked_corpus, layout, split_settings)
    return report, digests_fingerprint(digests), order


def digests_fingerprint(digests: dict[str, ArticleDigest]) -> bytes:
    fingerprint = hashlib.blake2b(digest_size=32)
    for article_id, digest in digests.items():
        fingerprint.update(article_id.encode() + b"\0" + digest.text + digest.title)
    return fingerprint.digest()


def text_digests(layout: Layout) -> dict[str, ArticleDigest]:
    """The digests check_corpus gives a valid corpus, without its checks: what the annotations are
    checked against while a worker checks the articles."""
    digests: dict[str, ArticleDigest] = {}
    for path in layout.shards():
        for _, _, raw in iter_lines(path, layout.relative(path)):
            if isinstance(raw, Problem):  # the worker's check reports it
                break
            progress.advance()
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and all(isinstance(record.get(k), str) for k in ("id", "title", "text")) and record["id"] not in digests:
                digests[record["id"]] = ArticleDigest(text_digest(record["text"]), text_digest(record["title"]))
    return digests


def check_inputs(
    layout: Layout, on_annotations: AnnotationSink | None = None, split_settings: SplitSettings | None = None, pool=None,
) -> tuple[Report, Taxonomy | None, CorpusOrder | None]:
    """The whole corpus, one pass per input; each article's current annotations go to
    `on_annotations` as they pass, so a build needs no pass of its own.

    With a pool of workers (workers.worker_pool), a worker checks the articles (and clusters them,
    given `split_settings`) while this process checks the annotations against the articles'
    digests. Should the worker find that those digests were not the corpus's (an invalid corpus),
    the annotations are checked again, in order, so the report is the one a single process gives.
    """
    report = Report(check_own_schemas(layout))
    if report.problems:  # validation stops here: nothing can be checked against a broken schema
        return report, None, None
    taxonomy, problems = check_taxonomy(layout)
    report.extend(problems)
    settings, problems = check_release_settings(layout)
    report.extend(problems)
    apart = isinstance(pool, WorkerPool)
    corpus_check = pool.submit(checked_corpus_apart, layout, split_settings) if apart else None
    with progress.stage("checking articles", total=progress.count_lines(layout.shards())):
        if apart:
            digests = text_digests(layout)
        else:
            corpus_report, digests, order = checked_corpus(layout, split_settings)
    annotations_report = Report()
    if taxonomy is not None:
        check_annotations(layout, taxonomy, settings, digests, annotations_report, on_annotations, pool)
    if apart:
        corpus_report, fingerprint, order = corpus_check.result()
        if taxonomy is not None and fingerprint != digests_fingerprint(digests):
            _, checked_digests, _ = progress.uncounted(checked_corpus, layout, None)
            annotations_report = Report()
            check_annotations(layout, taxonomy, settings, checked_digests, annotations_report, None, pool)
            if not corpus_report.errors:  # only an invalid corpus has other digests: a build must not go on with those labels
                raise RuntimeError("the articles' digests differ from the checked corpus's, which is valid")
    for part in (corpus_report, annotations_report):
        report.extend(part.problems)
        report.counts.update(part.counts)
    return report, taxonomy, order


def check_annotations(layout: Layout, taxonomy: Taxonomy, settings: dict | None, digests: dict[str, ArticleDigest], report: Report,
                      on_annotations: AnnotationSink | None, pool) -> None:
    reviews = ReviewCheck()
    with progress.stage("checking annotations", total=progress.total_bytes(layout.exports()), unit="tasks"):
        for article_id, records in iter_current_annotations(layout, taxonomy, digests, report, carry=carries_stale_tasks(settings), pool=pool):
            reviews(article_id, records)
            if on_annotations is not None:
                on_annotations(article_id, records)
    report.extend(reviews.outdated())


def validate(layout: Layout, on_annotations: AnnotationSink | None = None) -> tuple[Report, Taxonomy | None]:
    """The whole corpus, in one pass per input (see check_inputs), with workers where it is large."""
    collect_less()
    with worker_pool(pool_size(layout.shards(), None), ("newscorpus.validate",)) as pool:
        report, taxonomy, _ = check_inputs(layout, on_annotations, pool=pool)
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
