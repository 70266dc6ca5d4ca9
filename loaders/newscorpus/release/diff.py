"""What changed between two releases, article by article, read from their Parquet files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pyarrow

from ..problems import CommandError
from .manifest import config_batches, config_columns, read_manifest


def article_fingerprints(release_dir: Path) -> dict[str, tuple[str, str]]:
    """article id -> (hash of its text and title, hash of its gold labels), streamed from the files."""
    found: dict[str, tuple[str, str]] = {}
    for batch in config_batches(release_dir, "articles", ["id", "title", "text"]):
        for article_id, title, text in zip(*(batch.column(c).to_pylist() for c in ("id", "title", "text"))):
            found[article_id] = (hashlib.blake2b(f"{title}\n{text}".encode(), digest_size=12).hexdigest(), "")
    # relations are labels too; a release without the column and a row without relations hash alike
    columns = ["id", "entities", "title_entities", "topics"] + (["relations"] if "relations" in config_columns(release_dir, "documents") else [])
    for batch in config_batches(release_dir, "documents", columns):
        for row in batch.to_pylist():
            labels = orjson.dumps([row["entities"], row["title_entities"], row["topics"]] + ([row["relations"]] if row.get("relations") else []))
            found[row["id"]] = (found[row["id"]][0], hashlib.blake2b(labels, digest_size=12).hexdigest())
    return found


def release_changes(old_dir: Path, new_dir: Path) -> dict:
    """The changelog of two release folders; anything that is not a release is refused, never "no changes"."""
    for release_dir in (old_dir, new_dir):
        read_manifest(release_dir)
    try:
        return changelog(old_dir, new_dir)
    except (pyarrow.ArrowException, OSError) as err:
        raise CommandError(f"cannot read the releases' Parquet files: {err}") from None


def changelog(old_dir: Path, new_dir: Path) -> dict:
    old, new = article_fingerprints(old_dir), article_fingerprints(new_dir)
    common = old.keys() & new.keys()
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "text_changed": sorted(i for i in common if old[i][0] != new[i][0]),
        "labels_changed": sorted(i for i in common if old[i][1] != new[i][1]),
    }
