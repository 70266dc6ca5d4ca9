"""Reading and writing the files people and tools hand us: bytes checked before they are parsed,
and writes that readers never see half done."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa

from .layout import Layout
from .problems import CommandError, Problem
from .schemas import SchemaCheck

BOM = b"\xef\xbb\xbf"
# Reads are bounded: a file people edit is small, an export is read whole (one export at a time).
SMALL_FILE_LIMIT = 16 << 20
EXPORT_LIMIT = 4 << 30
LINE_LIMIT = 256 << 20
KEY_END = re.compile(rb'"[ \t\r\n]*:')
FILE_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
              stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def open_regular(path: Path, file: str) -> tuple[BinaryIO | None, Problem | None]:
    """Opens `path` only if it is a regular file (after links): a FIFO would block forever, a
    device like /dev/zero never ends. Opening without blocking lets a FIFO be looked at first."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        return None, Problem("file-unreadable", file, err.strerror or str(err))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        return None, Problem("not-a-file", file, f"is {FILE_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}; only regular files are read")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), None


def read_bounded(path: Path, file: str, limit: int) -> tuple[bytes | None, Problem | None]:
    """The whole file, if it is a regular file of at most `limit` bytes.

    The read is sized by the file, not by the limit: Python reserves the whole size asked for before
    it reads, and the limit of an export is 4 GiB."""
    handle, problem = open_regular(path, file)
    if problem:
        return None, problem
    too_large = Problem("file-too-large", file, f"is larger than {limit >> 20} MiB, the most newscorpus reads from such a file")
    with handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                return None, too_large
            raw = handle.read(size + 1)  # one byte past the size shows a file that grew since fstat
            if len(raw) > size:
                raw += handle.read(limit + 1 - len(raw))
        except OSError as err:
            return None, Problem("file-unreadable", file, err.strerror or str(err))
    if len(raw) > limit:
        return None, too_large
    return raw, None


class DuplicateKey(ValueError):
    pass


def refuse_duplicates(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return found


MAX_DEPTH = 254  # arrays and objects within each other: the most orjson writes, and the duplicate-key proof writes what was read


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH: refused, since no duplicate key could be ruled out."""

    def __init__(self):
        super().__init__(f"arrays and objects are nested more than {MAX_DEPTH} levels deep; newscorpus reads at most {MAX_DEPTH}")


def duplicate_key(raw: bytes, parsed) -> str | None:
    """A key that appears twice in one object of `raw` (JSON parsers keep the last silently), or None.
    Raises TooDeep for a document nested deeper than MAX_DEPTH.

    Cheap proof first: every key in `raw` ends in `"` then `:`, so the count of those is at least
    the count of keys; orjson writes strings as they were spelt (absent \\u escapes), so its
    output has the same count less one per key it dropped. Equal counts prove no duplicate. Only
    when they differ (a duplicate, or a `":` inside a string) does json's object_pairs_hook look.
    """
    try:
        written = orjson.dumps(parsed)
    except TypeError:  # orjson's "Recursion limit reached"
        raise TooDeep() from None
    if b"\\u" not in raw:
        spaced = b" :" in raw or b"\n:" in raw or b"\t:" in raw or b"\r:" in raw
        in_raw = len(KEY_END.findall(raw)) if spaced else raw.count(b'":')
        if in_raw == written.count(b'":'):
            return None
    try:
        json.loads(raw, object_pairs_hook=refuse_duplicates)
    except DuplicateKey as err:
        return str(err)
    return None


def duplicate_key_problem(key: str, file: str, line: int | None = None, task: int | None = None, pointer: str = "") -> Problem:
    return Problem("duplicate-key", file, f"the key {key!r} appears twice in one object; JSON readers keep only the last, so remove one", line=line, task=task, pointer=pointer)


def is_utf8(raw: bytes) -> bool:
    """Checks UTF-8 in place with Arrow's validator: decoding to a str would build the whole file,
    four bytes per character as soon as it holds an emoji, at a third of the speed."""
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(raw)]).cast(pa.large_string())
    except pa.ArrowInvalid:
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
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        return None, Problem("json-error", file, err.msg + f" at column {err.colno}", line=line if line is not None else err.lineno)
    try:
        key = duplicate_key(raw, document)
    except TooDeep as err:
        return None, Problem("json-error", file, str(err), line=line)
    if key is not None:
        return None, duplicate_key_problem(key, file, line)
    return document, None


def read_checked_json(layout: Layout, path: Path, schema_name: str, code: str) -> tuple[object, list[Problem]]:
    """A small JSON file people edit (taxonomy, settings), parsed and checked against its schema."""
    file = layout.relative(path)
    raw, problem = read_bounded(path, file, SMALL_FILE_LIMIT)
    if problem:
        return None, [problem]
    data, problem = decode_bytes(raw, file)
    if problem:
        return None, [problem]
    problems = [Problem(code, file, message, pointer=pointer) for pointer, message in SchemaCheck.of_corpus(layout, schema_name).errors(data)]
    return (None if problems else data), problems


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes | list[bytes]) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one.

    `data` may be a list of chunks, so that a large file is never joined into one bytes object."""
    write_all_atomically({path: data})


def write_all_atomically(files: dict[Path, bytes | list[bytes]]) -> None:
    """Every file written in full to a temporary file beside it, and only then all renamed: a write
    that fails (a full disk) leaves every one of them as it was."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((tmp, path))
            os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 would make release files private to their builder
            with os.fdopen(fd, "wb") as handle:
                handle.writelines([data] if isinstance(data, bytes) else data)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def writing(folder: Path, what: str, failures: tuple[type[Exception], ...] = (OSError,)):
    """A write that fails (a full disk, a file size limit, a read-only folder) becomes one message
    naming the folder and what was being written. Writes go through temporary files that their
    writers remove, so the message can say that nothing was written."""
    try:
        yield
    except failures as err:
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        reason = getattr(err, "strerror", None) or str(err)
        raise CommandError(f"cannot write {what} in {folder}: {reason}{where}; nothing was written") from None
