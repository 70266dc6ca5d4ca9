"""Ingest: raw text files into corpus shards, and corpus shards back out as article records.

Publisher boilerplate is removed by rules kept as data in corpus/boilerplate.json, keyed by source,
so that adding a publisher never needs a code change.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from .layout import Layout
from .problems import InputError, Problem, Report
from .schemas import SchemaCheck

BOM = b"\xef\xbb\xbf"


def is_utf8(raw: bytes) -> bool:
    """Checks UTF-8 in 1 MiB steps: decoding a whole file at once would build it as one str,
    four bytes per character as soon as it holds an emoji."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_bytes(raw: bytes, file: str, line: int | None = None) -> tuple[object, Problem | None]:
    """Parse one JSON document; a bad byte or bad JSON becomes a Problem, never an exception."""
    if raw.startswith(BOM):
        return None, Problem("bom-error", file, "starts with a UTF-8 byte order mark; save the file without it", line=line)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, Problem("encoding-error", file, f"byte {err.start} is not valid UTF-8 ({err.reason})", line=line)
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as err:
        return None, Problem("json-error", file, err.msg + f" at column {err.colno}", line=line if line is not None else err.lineno)


def iter_shard(path: Path, file: str) -> Iterator[tuple[int, object, Problem | None]]:
    """(line number, parsed record, problem) for every non-blank line of a JSONL shard."""
    try:
        handle = path.open("rb")
    except OSError as err:
        yield 0, None, Problem("file-unreadable", file, err.strerror or str(err))
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
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


@dataclass(frozen=True)
class BoilerplateRules:
    cut_from_line: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()

    def apply(self, text: str) -> str:
        kept = []
        for line in text.split("\n"):
            if line.strip() in self.cut_from_line:
                break
            if line.strip() not in self.drop_lines:
                kept.append(line)
        return "\n".join(kept).strip()


def read_checked_json(layout: Layout, path: Path, schema_name: str, code: str) -> tuple[object, list[Problem]]:
    """A small JSON file people edit (taxonomy, settings), parsed and checked against its schema."""
    file = layout.relative(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        return None, [Problem("file-unreadable", file, err.strerror or str(err))]
    data, problem = decode_bytes(raw, file)
    if problem:
        return None, [problem]
    problems = [Problem(code, file, message, pointer=pointer) for pointer, message in SchemaCheck(layout.schema_path(schema_name)).errors(data)]
    return (None if problems else data), problems


def load_boilerplate_rules(layout: Layout, source: str) -> BoilerplateRules:
    if not layout.boilerplate_path.exists():
        return BoilerplateRules()
    data, problems = read_checked_json(layout, layout.boilerplate_path, "boilerplate.schema.json", "config-error")
    if problems:
        raise InputError(Report(problems), "the boilerplate rules are invalid")
    rules = data.get(source, {})
    return BoilerplateRules(tuple(rules.get("cut_from_line", ())), tuple(rules.get("drop_lines", ())))


def normalise_text(text: str) -> str:
    """NFC, \\n line ends, no trailing spaces: the form every offset in the corpus is counted in."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def shard_name(source: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-") or "articles"


def existing_ids(layout: Layout) -> set[str]:
    return {record["id"] for record in iter_articles(layout) if isinstance(record, dict) and "id" in record}


def make_article(
    raw_text: str,
    *,
    article_id: str,
    source: str,
    rules: BoilerplateRules,
    title: str | None = None,
    language: str = "en",
    url: str | None = None,
    published: str | None = None,
    license: str | None = None,
) -> dict:
    """An article record from a text file's contents: the first line is the title unless one is given."""
    text = normalise_text(raw_text)
    if title is None:
        title, _, text = text.partition("\n")
    record = {"id": article_id, "title": normalise_text(title), "text": rules.apply(text.strip()), "source": source, "language": language}
    optional = {"url": url, "published": published, "license": license}
    record.update({key: value for key, value in optional.items() if value is not None})
    return record


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
