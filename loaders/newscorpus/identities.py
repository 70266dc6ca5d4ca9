"""Annotator emails and names kept out of the repository's exports (`studio pull`, `clean-identities`).

A task that holds none keeps its bytes: only the tasks that change are written anew, in the
file's own layout (compact as Label Studio writes, or indented as `import` writes), so a cleaned
export differs from the original in exactly those tasks. Each file is replaced whole, atomically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from .annotators import IDENTITY_KEYS, without_identities
from .exports.checks import split_export
from .files import write_atomically
from .layout import Layout
from .problems import CommandError

QUOTED_KEYS = [f'"{key}"'.encode() for key in sorted(IDENTITY_KEYS)]
MAY_IDENTIFY = re.compile(b"|".join([b"@", *map(re.escape, QUOTED_KEYS)]))  # a task with none of these has nothing to remove


def cleaned_export(path: Path, file: str) -> list[bytes] | None:
    """The export's bytes with its tasks' identities removed, as chunks; None when nothing changes
    or the file cannot be read as an export (validate names what is wrong with it)."""
    raw = path.read_bytes()
    if b"@" not in raw and not any(key in raw for key in QUOTED_KEYS):  # most exports: one fast look at the bytes
        return None
    export, _ = split_export(path, file)
    if export is None:
        return None
    chunks, position = [], 0
    for item in export.items:
        if not MAY_IDENTIFY.search(item):
            continue
        item = bytes(item)
        task = orjson.loads(item)
        cleaned = without_identities(task) if isinstance(task, dict) else task
        if cleaned == task:
            continue
        start = raw.find(item, position)  # an identical task before it would need the same change: the tasks are patched in order
        if start < 0:  # re-encoded by the lenient reader: not a slice of the file to patch
            return None
        chunks += [raw[position:start], encoded_like(cleaned, raw, start, item)]
        position = start + len(item)
    return chunks + [raw[position:]] if chunks else None


def encoded_like(task: dict, raw: bytes, start: int, original: bytes) -> bytes:
    """The task as JSON laid out as the original was: compact, or indented as deep and by as many
    spaces. Text stays as it was written (the cleaned task holds only characters the original did)."""
    if b"\n" not in original:
        return orjson.dumps(task)
    line_start = raw.rfind(b"\n", 0, start) + 1
    indent = raw[line_start:start] if not raw[line_start:start].strip() else b""
    second_line = original.split(b"\n", 2)[1]
    step = len(second_line) - len(second_line.lstrip(b" ")) - len(indent)
    text = json.dumps(task, indent=max(step, 1), ensure_ascii=False).encode()
    return text.replace(b"\n", b"\n" + indent)


@dataclass
class Cleaned:
    files: list[str]
    checked: int


def clean_identities(layout: Layout) -> Cleaned:
    """Every export under annotations/ rewritten without annotator emails and names, file by file."""
    exports = layout.exports()
    files = []
    for path in exports:
        file = layout.relative(path)
        try:
            chunks = cleaned_export(path, file)
            if chunks is not None:
                write_atomically(path, chunks)
        except OSError as err:
            raise CommandError(f"{file}: cannot clean it: {err.strerror or err}; it is unchanged"
                               + (f", the {len(files)} exports cleaned before it are written" if files else "")) from None
        if chunks is not None:
            files.append(file)
    return Cleaned(files, len(exports))
