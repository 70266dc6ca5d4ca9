"""The corpus: JSONL shards of article records, read line by line and appended to atomically."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from .files import LINE_LIMIT, decode_bytes, open_regular, write_atomically
from .layout import Layout
from .problems import InputError, Problem, Report
from .schemas import SchemaCheck


def iter_shard(path: Path, file: str) -> Iterator[tuple[int, object, Problem | None]]:
    """(line number, parsed record, problem) for every non-blank line of a JSONL shard."""
    handle, problem = open_regular(path, file)
    if problem:
        yield 0, None, problem
        return
    with handle:
        for number, raw in enumerate(iter(lambda: handle.readline(LINE_LIMIT + 1), b""), start=1):
            if len(raw) > LINE_LIMIT:
                yield number, None, Problem("file-too-large", file, f"the line is longer than {LINE_LIMIT >> 20} MiB, the most newscorpus reads as one article", line=number)
                return
            if not raw.strip():
                continue
            record, problem = decode_bytes(raw, file, number)
            yield number, record, problem


def iter_articles(layout: Layout) -> Iterator[dict]:
    """Every article record in corpus order (shard name, then line). Assumes a validated corpus."""
    for path in layout.shards():
        for _, record, problem in iter_shard(path, layout.relative(path)):
            if problem is None:
                yield record


def articles_by_id(layout: Layout, ids: set[str]) -> dict[str, dict]:
    """The records of the given articles (the first of each id), in one pass over the corpus."""
    found: dict[str, dict] = {}
    if not ids:
        return found
    for record in iter_articles(layout):
        if isinstance(record, dict) and record.get("id") in ids and record["id"] not in found:
            found[record["id"]] = record
    return found


def shard_name(source: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-") or "articles"


def existing_ids(layout: Layout) -> set[str]:
    return {record["id"] for record in iter_articles(layout) if isinstance(record, dict) and "id" in record}


def add_article(layout: Layout, record: dict, shard: str | None = None) -> Path:
    """Append a checked article to its shard; refuses an id that exists anywhere in the corpus."""
    file = f"--id {record.get('id')}"
    problems = [
        Problem("schema-error", file, message, pointer=pointer)
        for pointer, message in SchemaCheck(layout.schema_path("article.schema.json")).errors(record)
    ]
    if not problems and record["id"] in existing_ids(layout):
        problems.append(Problem("duplicate-id", file, f"article {record['id']!r} is already in the corpus; ids never change, pick a new one", pointer="/id"))
    if problems:
        raise InputError(Report(problems), "the article was not added")
    path = layout.corpus_dir / f"{shard or shard_name(record['source'])}.jsonl"
    previous = path.read_bytes() if path.exists() else b""
    if previous and not previous.endswith(b"\n"):
        previous += b"\n"
    write_atomically(path, previous + orjson.dumps(record) + b"\n")
    return path
