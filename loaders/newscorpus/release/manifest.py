"""What identifies a release: its version, the files it holds with their hashes, the tools that wrote it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

import datasets
import orjson
import pyarrow

from .. import __version__
from ..problems import CommandError

VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")

@dataclass
class ReleaseFile:
    path: str
    sha256: str
    bytes: int
    rows: int | None = None


def version_key(version: str) -> tuple[int, int, int]:
    match = VERSION.match(version)
    if not match:
        raise CommandError(f"version {version!r} is not X.Y.Z")
    return tuple(int(x) for x in match.groups())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def releases_in(folder: Path) -> list[str]:
    found = [p.name[1:] for p in folder.glob("v*") if p.is_dir() and VERSION.match(p.name[1:]) and (p / "manifest.json").exists()]
    return sorted(found, key=version_key)


def read_manifest(release_dir: Path) -> dict:
    path = release_dir / "manifest.json"
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as err:
        raise CommandError(f"{path}: not a readable release manifest ({err})") from None


def tool_versions() -> dict[str, str]:
    """What wrote the bytes: a rebuild is byte-identical only with the same versions."""
    return {"name": "newscorpus", "version": __version__, "datasets": datasets.__version__, "pyarrow": pyarrow.__version__,
            **{name: importlib.metadata.version(name) for name in ("matplotlib", "pillow")}}  # they draw the card's picture
