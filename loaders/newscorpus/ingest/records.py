"""JSONL and CSV files of article records, as news scrapers write them.

A record's title and text are taken exactly as given, never stripped or re-normalised: they may
be the very text someone annotated, and moving one character would move every offset after it.
A text that is not NFC or holds "\\r" is refused, not repaired.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..files import decode_bytes
from ..problems import Problem
from .ids import article_id_from, id_from_value

# article field -> the record keys tried in order: our own names, then news-please (maintext,
# date_publish), newspaper3k (publish_date), trafilatura (date, author) and common CSV headers.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id"),
    "title": ("title", "headline"),
    "text": ("text", "maintext", "body", "content"),
    "url": ("url", "link"),
    "published": ("published", "date_publish", "publish_date", "date"),
    "authors": ("authors", "author"),
    "language": ("language", "lang"),
    "license": ("license",),
}
DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]|$)")


@dataclass(frozen=True)
class FieldMap:
    """Which record key fills each article field; `--field text=body` puts "body" first for text."""

    keys: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_FIELDS))

    @classmethod
    def with_overrides(cls, overrides: dict[str, str]) -> "FieldMap":
        unknown = sorted(set(overrides) - set(DEFAULT_FIELDS))
        if unknown:
            raise ValueError(f"unknown article field {unknown[0]!r}; fields are {', '.join(DEFAULT_FIELDS)}")
        return cls({name: (overrides[name],) if name in overrides else keys for name, keys in DEFAULT_FIELDS.items()})

    def get(self, row: dict, name: str):
        for key in self.keys[name]:
            value = row.get(key)
            if value is not None and value != "":
                return value
        return None


def article_from_record(row: dict, fields: FieldMap, *, source: str, language: str, license: str | None) -> tuple[dict | None, str]:
    """(article, "") or (None, why not). Optional fields are tidied; title and text never are."""
    title, text = fields.get(row, "title"), fields.get(row, "text")
    for name, value in (("title", title), ("text", text)):
        if not isinstance(value, str):
            return None, f"no {name} (looked for {', '.join(fields.keys[name])}; name the key with --field {name}=KEY)"
    given_id = fields.get(row, "id")
    record = {"id": id_from_value(str(given_id)) if given_id is not None else article_id_from(source, title),
              "title": title, "text": text, "source": source, "language": fields.get(row, "language") or language}
    url = fields.get(row, "url")
    if url is not None:
        record["url"] = url
    published = fields.get(row, "published")
    if published is not None:
        match = DATE_PREFIX.match(published) if isinstance(published, str) else None
        record["published"] = match.group(1) if match else published
    authors = fields.get(row, "authors")
    if isinstance(authors, str):
        authors = [name.strip() for name in authors.split(";") if name.strip()]
    if authors:
        record["authors"] = authors
    record_license = fields.get(row, "license") or license
    if record_license is not None:
        record["license"] = record_license
    return record, ""


def iter_jsonl_rows(raw: bytes, file: str) -> Iterator[tuple[int, dict | None, Problem | None]]:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:  # orjson checks the UTF-8 itself; decode_bytes runs only to say what is wrong
            row, problem = orjson.loads(line), None
        except orjson.JSONDecodeError:
            row, problem = decode_bytes(line, file, number)
        if problem is None and not isinstance(row, dict):
            problem = Problem("schema-error", file, f"a record is a JSON object, not {type(row).__name__}", line=number)
        yield number, (row if problem is None else None), problem


def iter_csv_rows(raw: bytes, file: str) -> Iterator[tuple[int, dict | None, Problem | None]]:
    """Rows of a CSV file with a header; the line is where the row starts (a quoted field may span lines)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        yield 0, None, Problem("encoding-error", file, f"byte {err.start} is not valid UTF-8 ({err.reason})")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames  # reads the header, so that line_num counts from it
    line = reader.line_num + 1
    for row in reader:
        yield line, row, None
        line = reader.line_num + 1


def iter_rows(path: Path, raw: bytes, file: str) -> Iterator[tuple[int, dict | None, Problem | None]]:
    reader = iter_csv_rows if path.suffix.lower() == ".csv" else iter_jsonl_rows
    return reader(raw, file)
