"""Reading and writing the files people and tools hand us: bytes checked before they are parsed,
and writes that readers never see half done."""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

import orjson

from .layout import Layout
from .problems import Problem
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


def write_atomically(path: Path, data: bytes | list[bytes]) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one.

    `data` may be a list of chunks, so that a large file is never joined into one bytes object."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines([data] if isinstance(data, bytes) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
