"""Defaults of the settings files people edit, kept as `default`s in the packaged schemas so
that the schema documents them and `init` and `build` read them from one place."""

from __future__ import annotations

import orjson

from .layout import PACKAGED_SCHEMAS


def release_defaults() -> dict:
    """corpus/release.json as a build sees it when the file is missing."""
    schema = orjson.loads((PACKAGED_SCHEMAS / "release.schema.json").read_bytes())
    return {name: spec["default"] for name, spec in schema["properties"].items() if "default" in spec}
