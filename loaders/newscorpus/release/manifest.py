"""What identifies a release: its version, the files it holds with their hashes, the tools that wrote it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import datasets
import pyarrow
import pyarrow.parquet as pq

from .. import __version__
from ..files import SMALL_FILE_LIMIT, decode_bytes, read_bounded
from ..layout import PACKAGED_SCHEMAS
from ..problems import CommandError
from ..schemas import SchemaCheck

# ASCII digits, no leading zeros, nothing after the third number (Python's \d takes any script's
# digits and `$` matches before a final newline, so neither is used).
VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
# How an existing folder's name is read: any spelling that means the same three numbers.
ANY_SPELLING = re.compile(r"v\s*(\d+)\s*\.\s*(\d+)\s*\.\s*(\d+)\s*")

# Rows read back from a release at a time: one row group of `documents` can hold tens of thousands,
# and a batch of them decoded whole costs hundreds of MB.
READ_ROWS = 1024


@dataclass
class ReleaseFile:
    path: str
    sha256: str
    bytes: int
    rows: int | None = None


def version_key(version: str) -> tuple[int, int, int]:
    match = VERSION.fullmatch(version)
    if not match:
        raise CommandError(f"version {version!r} is not X.Y.Z (ASCII digits, no leading zeros, e.g. 1.0.0)")
    return tuple(int(x) for x in match.groups())


def same_version_folders(folder: Path, version: str) -> list[Path]:
    """Folders in `folder` whose names spell `version` in any way (v1.0.0, v01.0.0, v1.00.0, ...)."""
    key = version_key(version)
    found = []
    for path in folder.glob("v*") if folder.is_dir() else []:
        match = ANY_SPELLING.fullmatch(path.name)
        if match and tuple(int(x) for x in match.groups()) == key:
            found.append(path)
    return sorted(found)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def releases_in(folder: Path) -> list[str]:
    found = [p.name[1:] for p in folder.glob("v*") if p.is_dir() and VERSION.fullmatch(p.name[1:]) and (p / "manifest.json").exists()]
    return sorted(found, key=version_key)


def read_manifest(release_dir: Path) -> dict:
    """A release's manifest, checked against its schema: a folder without a sound one is not a release."""
    if not release_dir.is_dir():
        raise CommandError(f"{release_dir} is not a release: there is no such folder")
    path = release_dir / "manifest.json"
    raw, problem = read_bounded(path, str(path), SMALL_FILE_LIMIT)
    if problem is None:
        manifest, problem = decode_bytes(raw, str(path))
    if problem is not None:
        raise CommandError(f"{release_dir} is not a release: {problem.location()}: {problem.message}")
    errors = SchemaCheck(PACKAGED_SCHEMAS / "manifest.schema.json").errors(manifest)
    if errors:
        pointer, message = errors[0]
        raise CommandError(f"{release_dir} is not a release: {path} ({pointer or 'top level'}): {message}")
    return manifest


def tool_versions() -> dict[str, str]:
    """What wrote the bytes: a rebuild is byte-identical only with the same versions."""
    return {"name": "newscorpus", "version": __version__, "datasets": datasets.__version__, "pyarrow": pyarrow.__version__,
            **{name: importlib.metadata.version(name) for name in ("matplotlib", "pillow")}}  # they draw the card's picture


def config_batches(release_dir: Path, config: str, columns: list[str] | None, shards: str = "*.parquet") -> Iterator[pyarrow.RecordBatch]:
    """A config's rows (of the shards that match `shards`), shard after shard in name order, READ_ROWS at a time."""
    for path in sorted((release_dir / config).glob(shards)):
        yield from pq.ParquetFile(path).iter_batches(batch_size=READ_ROWS, columns=columns)


def config_columns(release_dir: Path, config: str) -> list[str]:
    """The columns of a config's shards (they all have the same), none when it has no shard."""
    first = next(iter(sorted((release_dir / config).glob("*.parquet"))), None)
    return pq.read_schema(first).names if first else []


def config_features(release_dir: Path, config: str) -> datasets.Features:
    """A config's typed features (ClassLabel names included) as `datasets` stored them in its shards; none when it has no shard."""
    first = next(iter(sorted((release_dir / config).glob("*.parquet"))), None)
    return datasets.Features.from_arrow_schema(pq.read_schema(first)) if first else datasets.Features()
