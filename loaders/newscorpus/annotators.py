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

The repository holds no email or name either: `import` and `studio pull` store a user as its id
(`without_identities`), and `validate` reports an email left in an export (`email_places`).
Everything of a task is in scope but the article's text and title in `data` and the `value` of
each result, which quote the article: those are the text that was annotated, not who annotated it.
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
from .schemas import json_pointer

ANONYMOUS = "anonymous"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
IDENTITY_KEYS = frozenset({"email", "username", "first_name", "last_name", "created_username", "initials", "avatar"})
ARTICLE_KEYS = ("text", "title")  # of a task's data: the annotated text, never changed
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


def is_user_object(value) -> bool:
    """Label Studio's user object (`completed_by` and the like, expanded): an integer id with an email or a name."""
    return isinstance(value, dict) and type(value.get("id")) is int and any(key in value for key in ("email", "username", "first_name", "last_name"))


def without_identities(task: dict) -> dict:
    """The task with every user object replaced by its id and every email and name left out.

    What `import` and `studio pull` store: the one change they make to an export. Annotator
    identity (annotator_identity) is the user id either way, so no pseudonym changes.
    """
    def clean(value, key=None):
        if is_user_object(value):
            return value["id"]
        if isinstance(value, dict):
            return {k: v if k == "value" and key == "result" else clean(v, k)
                    for k, v in value.items() if k not in IDENTITY_KEYS and not has_email(v)}
        if isinstance(value, list):
            return [clean(item, key) for item in value if not has_email(item)]
        return value

    cleaned = {k: clean(v, k) for k, v in task.items() if k != "data" and k not in IDENTITY_KEYS and not has_email(v)}
    data = task.get("data")
    if isinstance(data, dict):
        cleaned["data"] = {k: v if k in ARTICLE_KEYS else clean(v, k) for k, v in data.items() if k in ARTICLE_KEYS or not has_email(v)}
    return {k: cleaned[k] for k in task if k in cleaned}


def has_email(value) -> bool:
    return isinstance(value, str) and EMAIL.search(value) is not None


def email_places(task: dict, place: tuple) -> list[str]:
    """JSON pointers of the emails in a task (at `place` in its file) that without_identities removes."""
    found: list[str] = []

    def look(value, path: tuple, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                if not (k == "value" and key == "result"):
                    look(v, (*path, k), k)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                look(item, (*path, i), key)
        elif has_email(value):
            found.append(json_pointer(path))

    for k, v in task.items():
        if k == "data" and isinstance(v, dict):
            for name, item in v.items():
                if name not in ARTICLE_KEYS:
                    look(item, (*place, "data", name), name)
        else:
            look(v, (*place, k), k)
    return found


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
