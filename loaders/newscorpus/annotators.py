"""Annotators: who made an annotation, and the pseudonym a release shows instead.

Identity is the Label Studio user id, whichever form `completed_by` takes in an export (an id, an
integral number such as 1.0, or a user object with `id`, `email` and names). An annotation that
records no annotator (the Label Studio 0.x norm) counts as an annotator of its own: folding all of
them into one "unknown" voter would let one vote stand for several people and drop all but the
latest of their annotations of an article.

A release never holds a user id, an email or a name. A user appears as `annotator-<12 hex>`, an
HMAC-SHA256 of the user id under the corpus's own key (annotations/pseudonym-key.txt), so the
pseudonym is the same in every release of the corpus, differs between corpora, and cannot be
turned back into a small user id by hashing candidates without the key. The key is created by the
first build that needs it, committed with the corpus, and never copied into a release.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from pathlib import Path

from .layout import Layout
from .problems import CommandError

ANONYMOUS = "anonymous"
KEY_FILE = re.compile(rb"^([0-9a-f]{64})\n?$")
PSEUDONYM_HEX = 12


def annotator_identity(completed_by, annotation_id: int) -> str:
    """`user:<id>` for a Label Studio user; `anonymous:<annotation id>` when the export names nobody.

    The export schema has already refused anything but an integral number or an object with one.
    """
    if isinstance(completed_by, dict):
        completed_by = completed_by["id"]
    if completed_by is None:
        return f"{ANONYMOUS}:{annotation_id}"
    return f"user:{int(completed_by)}"


def is_anonymous(identity: str) -> bool:
    return identity.startswith(ANONYMOUS + ":")


class Pseudonyms:
    """Maps annotator identities to the names a release carries."""

    def __init__(self, key: bytes):
        self.key = key
        self.users: dict[str, str] = {}  # a release names each user in every annotation: one HMAC each

    def _digest(self, message: str) -> str:
        return hmac.new(self.key, message.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]

    def of(self, identity: str, article_id: str) -> str:
        """An anonymous annotation is its own annotator: its pseudonym is unique to it in the release."""
        if is_anonymous(identity):
            return f"{ANONYMOUS}-{self._digest(f'{article_id}/{identity}')}"
        if identity not in self.users:
            self.users[identity] = f"annotator-{self._digest(identity)}"
        return self.users[identity]


def load_or_create_key(layout: Layout) -> bytes:
    """The corpus's pseudonym key; created (atomically, never overwritten) when the corpus has none."""
    path = layout.pseudonym_key_path
    if not path.exists():
        create_key(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CommandError(f"{layout.relative(path)}: cannot read the pseudonym key: {err.strerror or err}") from None
    match = KEY_FILE.match(raw)
    if match is None:
        raise CommandError(f"{layout.relative(path)}: not a pseudonym key (one line of 64 lowercase hex digits); "
                           "restore it from git: a new key would change every annotator's pseudonym")
    return bytes.fromhex(match.group(1).decode())


def create_key(path: Path) -> None:
    """Link, not rename: of two builds creating the key at once, the second uses the first one's key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)
