"""The corpus: JSONL shards of article records, read line by line and appended to atomically."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import orjson

from .files import LINE_LIMIT, decode_bytes, open_regular, write_all_atomically
from .layout import Layout
from .languages import unknown_language
from .problems import InputError, Problem, Report
from .schemas import SchemaCheck


def text_digest(text: str) -> bytes:
    """What identifies an article's text or title: tasks, pushes and duplicates are compared by it."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def iter_lines(path: Path, file: str) -> Iterator[tuple[int, int, bytes | Problem]]:
    """(line number, byte offset, bytes) for every non-blank line of a JSONL shard (one article
    each), or a Problem where reading stops: only a regular file is read, and no line past LINE_LIMIT."""
    handle, problem = open_regular(path, file)
    if problem:
        yield 0, 0, problem
        return
    with handle:
        offset = 0
        for number, raw in enumerate(iter(lambda: handle.readline(LINE_LIMIT + 1), b""), start=1):
            if len(raw) > LINE_LIMIT:
                yield number, offset, Problem("file-too-large", file, f"the line is longer than {LINE_LIMIT >> 20} MiB, the most newscorpus reads as one article", line=number)
                return
            if raw.strip():
                yield number, offset, raw
            offset += len(raw)


def iter_shard(path: Path, file: str) -> Iterator[tuple[int, object, Problem | None]]:
    """(line number, parsed record, problem) for every non-blank line of a JSONL shard."""
    for number, _, raw in iter_lines(path, file):
        if isinstance(raw, Problem):
            yield number, None, raw
        else:
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


class CorpusAppend:
    """New articles checked against the corpus and against each other, then appended with one
    atomic write per shard: a run adds all it accepted or, if the write fails, nothing.

    `keep_identical`: an article with the id, title and text of one already in the corpus is
    counted as unchanged instead of refused (an import of tasks whose articles are in).
    """

    def __init__(self, layout: Layout, keep_identical: bool = False):
        self.layout = layout
        self.keep_identical = keep_identical
        self.schema = SchemaCheck.of_corpus(layout, "article.schema.json")
        self.records: dict[str, bytes] = {}  # id -> digest of title and text
        self.texts: dict[bytes, str] = {}  # digest of the text -> id
        self.shards: dict[str, str] = {}  # source -> shard name
        self.pending: dict[str, list[bytes]] = {}  # shard name -> its new lines
        self.added = self.unchanged = 0
        for record in iter_articles(layout):
            if isinstance(record, dict) and all(isinstance(record.get(key), str) for key in ("id", "title", "text")):
                self.records[record["id"]] = text_digest(record["title"]) + text_digest(record["text"])
                self.texts.setdefault(text_digest(record["text"]), record["id"])

    def offer(self, record: dict, file: str, line: int | None = None, task: int | None = None) -> list[Problem]:
        """Queues the record if it can join the corpus; otherwise says why not."""
        def problem(code, message, pointer):
            return Problem(code, file, message, line=line, task=task, pointer=pointer)

        errors = self.schema.errors(record)
        if errors:
            return [problem("schema-error", message, pointer) for pointer, message in errors]
        problems = [problem("text-not-nfc", f"{key} is not in Unicode NFC", f"/{key}")
                    for key in ("title", "text") if not unicodedata.is_normalized("NFC", record[key])]
        unknown = unknown_language(record["language"])
        problems += [problem("unknown-language", unknown, "/language")] if unknown else []
        if problems:
            return problems
        article_id, digest = record["id"], text_digest(record["text"])
        content = text_digest(record["title"]) + digest
        if article_id in self.records:
            if self.keep_identical and self.records[article_id] == content:
                self.unchanged += 1
                return []
            return [problem("duplicate-id", f"article {article_id!r} is already in the corpus; ids never change, pick a new one", "/id")]
        if digest in self.texts:
            return [problem("duplicate-text", f"the text repeats article {self.texts[digest]!r} exactly", "/text")]
        self.records[article_id] = content
        self.texts[digest] = article_id
        shard = self.shards.get(record["source"]) or self.shards.setdefault(record["source"], shard_name(record["source"]))
        self.pending.setdefault(shard, []).append(orjson.dumps(record) + b"\n")
        self.added += 1
        return []

    def staged(self) -> dict[Path, list[bytes]]:
        """Each shard that gained articles, as it will be: its old bytes, then the new lines."""
        shards = {}
        for shard, lines in self.pending.items():
            path = self.layout.corpus_dir / f"{shard}.jsonl"
            previous = path.read_bytes() if path.exists() else b""
            if previous and not previous.endswith(b"\n"):
                previous += b"\n"
            shards[path] = [previous, *lines]
        return shards

    def write(self, also: dict[Path, bytes] | None = None) -> list[Path]:
        """The shards that gained articles (and the files `also` names), all renamed into place
        only once every one is written: a full disk leaves the corpus as it was."""
        shards = self.staged()
        write_all_atomically({**shards, **(also or {})})
        self.pending = {}
        return list(shards)


def add_article(layout: Layout, record: dict) -> Path:
    """Append one article to its shard; refuses an id or a text that exists anywhere in the corpus."""
    batch = CorpusAppend(layout)
    problems = batch.offer(record, f"--id {record.get('id')}")
    if problems:
        raise InputError(Report(problems), "the article was not added")
    (path,) = batch.write()
    return path
