"""Article ids made from what an input carries: a stable slug, so the same input always gets the same id."""

from __future__ import annotations

import hashlib
import re
import unicodedata

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
MAX_LENGTH = 128


def slug(text: str) -> str:
    """Lowercase ASCII words joined by '-': accents folded, every other character a separator."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def article_id_from(source: str, title: str) -> str:
    """`<source>-<title>` as a slug, cut at a word boundary to 128 characters.

    A title with no Latin letters or digits (Chinese, Russian, ...) gets a hash of itself instead.
    """
    title_part = slug(title) or hashlib.blake2b(title.encode("utf-8"), digest_size=6).hexdigest()
    return fit(f"{slug(source) or 'article'}-{title_part}")


def id_from_value(value: str) -> str:
    """A record's or task's own id: kept when it is already a valid id, else made into a slug."""
    return value if ID_PATTERN.match(value) and ".." not in value else fit(slug(value))


def fit(candidate: str) -> str:
    if len(candidate) <= MAX_LENGTH:
        return candidate
    cut = candidate[:MAX_LENGTH]
    return cut.rsplit("-", 1)[0] if "-" in cut[1:] else cut
