"""Secrets kept out of every message: a token is replaced in each form it can take in text."""

from __future__ import annotations

import json
import urllib.parse

MASK = "***"


def secret_forms(secret: str) -> list[str]:
    """The secret raw, repr- and JSON-escaped, URL-encoded and as bytes shown by repr (httpx's
    "Illegal header value b'Token ...\\r'"), longest first so a form inside another goes too."""
    if not secret:
        return []
    forms = {secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), repr(secret.encode("utf-8", "surrogateescape"))[2:-1]}
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def redact(text: str, secret: str) -> str:
    for form in secret_forms(secret):
        text = text.replace(form, MASK)
    return text
