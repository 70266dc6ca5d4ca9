"""Plain text files: the first line is the title unless one is given."""

from __future__ import annotations

import unicodedata

from .boilerplate import BoilerplateRules
from .ids import article_id_from


def normalise_text(text: str) -> str:
    """NFC, \\n line ends, no trailing spaces: the form every offset in the corpus is counted in."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def make_article(
    raw_text: str,
    *,
    article_id: str | None,
    source: str,
    rules: BoilerplateRules,
    title: str | None = None,
    language: str = "en",
    url: str | None = None,
    published: str | None = None,
    license: str | None = None,
) -> dict:
    """An article record from a text file's contents: the first line is the title unless one is given;
    without an id, the id is a slug of the source and the title."""
    text = normalise_text(raw_text)
    if title is None:
        title, _, text = text.partition("\n")
    title = normalise_text(title)
    record = {"id": article_id or article_id_from(source, title), "title": title, "text": rules.apply(text.strip()), "source": source, "language": language}
    optional = {"url": url, "published": published, "license": license}
    record.update({key: value for key, value in optional.items() if value is not None})
    return record
