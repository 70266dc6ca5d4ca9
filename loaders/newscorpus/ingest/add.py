"""`newscorpus add`: many inputs in one run, each read by the module for its format.

Every input is read and checked before anything is written; then each shard that gained
articles is written once, atomically. A bad input is reported with its path (and line) and the
rest still goes in, unless the caller asks for all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import progress
from ..corpus import CorpusAppend
from ..files import writing
from ..layout import Layout
from ..problems import Problem, Report
from .boilerplate import load_boilerplate_rules
from .html import article_from_html
from .ids import article_id_from
from .records import FieldMap, article_from_record, iter_rows
from .text import make_article

RECORD_SUFFIXES = {".jsonl", ".ndjson", ".csv"}
HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ""}


@dataclass
class AddOptions:
    source: str
    language: str = "en"
    license: str | None = None
    fields: FieldMap = field(default_factory=FieldMap)
    # for a single text file or HTML page only:
    article_id: str | None = None
    title: str | None = None
    url: str | None = None
    published: str | None = None


@dataclass
class AddOutcome:
    report: Report
    added: int
    shards: list[Path]


def expand_inputs(paths: list[Path]) -> Iterator[Path]:
    """Files as given; a folder gives its text, HTML and record files (hidden ones skipped), sorted."""
    for path in paths:
        if path.is_dir():
            found = (p for p in sorted(path.rglob("*")) if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
            yield from (p for p in found if p.suffix.lower() in RECORD_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES)
        else:
            yield path


def add_inputs(layout: Layout, paths: list[Path], options: AddOptions, all_or_nothing: bool = False) -> AddOutcome:
    rules = load_boilerplate_rules(layout, options.source)
    batch = CorpusAppend(layout)
    report = Report()
    inputs = list(expand_inputs(paths))
    sizes = {path: path.stat().st_size if path.is_file() else 0 for path in inputs}
    with progress.stage("adding", total=sum(sizes.values())):  # the bar moves by bytes read, counts inputs and rows
        for path in inputs:
            file = layout.relative(path)
            try:
                raw = path.read_bytes()
            except OSError as err:
                report.add(Problem("file-unreadable", file, err.strerror or str(err)))
                continue
            suffix = path.suffix.lower()
            if suffix in RECORD_SUFFIXES:
                problems = add_records(path, raw, file, options, batch)
            else:
                problems = add_page(raw, file, html=suffix in HTML_SUFFIXES, options=options, rules=rules, batch=batch)
                progress.advance(1, sizes[path])
            report.extend(problems)
            report.counts["inputs"] += 1
    report.counts["articles added"] = batch.added
    if all_or_nothing and not report.valid:
        return AddOutcome(report, 0, [])
    with writing(layout.corpus_dir, "the corpus shards"):
        return AddOutcome(report, batch.added, batch.write())


def add_records(path: Path, raw: bytes, file: str, options: AddOptions, batch: CorpusAppend) -> list[Problem]:
    problems: list[Problem] = []
    rows_per_step = 1000
    step = len(raw) // max(1, raw.count(b"\n")) * rows_per_step
    for count, (line, row, problem) in enumerate(iter_rows(path, raw, file), start=1):
        if count % rows_per_step == 0:
            progress.advance(rows_per_step, step)
        if problem is not None:
            problems.append(problem)
            continue
        record, reason = article_from_record(row, options.fields, source=options.source, language=options.language, license=options.license)
        if record is None:
            problems.append(Problem("field-missing", file, reason, line=line))
            continue
        problems.extend(batch.offer(record, file, line=line))
    return problems


def add_page(raw: bytes, file: str, *, html: bool, options: AddOptions, rules, batch: CorpusAppend) -> list[Problem]:
    """One text file or HTML page: one article."""
    given = {"title": options.title, "url": options.url, "published": options.published, "license": options.license}
    if html:
        page = article_from_html(raw, rules, **given)
        if page is None:
            return [Problem("no-article-text", file, "no article text found in the page")]
        if not page.get("title"):
            return [Problem("field-missing", file, "the page has no title; give one with --title")]
        record = {"id": options.article_id or article_id_from(options.source, page["title"]), "title": page["title"], "text": page["text"],
                  "source": options.source, "language": options.language,
                  **{key: page[key] for key in ("url", "published", "authors", "license") if key in page}}
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            return [Problem("encoding-error", file, f"cannot read as UTF-8 text: byte {err.start} is not valid UTF-8 ({err.reason})")]
        record = make_article(text, article_id=options.article_id, source=options.source, rules=rules, title=options.title,
                              language=options.language, url=options.url, published=options.published, license=options.license)
    return batch.offer(record, file)
