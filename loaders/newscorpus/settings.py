"""corpus/release.json: its defaults, kept as `default`s in the packaged schema so that the schema
documents them and `init` and `build` read them from one place, and the checks of its meaning, so
`validate` catches what would crash `build`."""

from __future__ import annotations

import math

import orjson

from .files import read_checked_json
from .layout import PACKAGED_SCHEMAS, Layout
from .problems import Problem

RATIO_TOLERANCE = 1e-9


def release_defaults() -> dict:
    """corpus/release.json as a build sees it when the file is missing."""
    schema = orjson.loads((PACKAGED_SCHEMAS / "release.schema.json").read_bytes())
    return {name: spec["default"] for name, spec in schema["properties"].items() if "default" in spec}


def split_settings_problems(settings: dict) -> list[tuple[str, str]]:
    """(pointer, message) for what the schema cannot say: the ratios add up to 1, and a shingle
    size is a whole number (the schema's `integer` accepts 5.0)."""
    found = []
    ratios = settings["splits"]
    total = math.fsum(ratios.values())
    if abs(total - 1) > RATIO_TOLERANCE:
        found.append(("/splits", f"the split ratios add up to {total:g}; they must add up to 1"))
    shingle_words = settings.get("shingle_words")
    if shingle_words is not None and type(shingle_words) is not int:
        found.append(("/shingle_words", f"expected a whole number written without a decimal point, found {shingle_words!r}"))
    return found


def check_release_settings(layout: Layout) -> tuple[dict | None, list[Problem]]:
    """The settings, checked; the defaults when the corpus has no corpus/release.json."""
    path = layout.release_settings_path
    if not path.exists() and not path.is_symlink():  # a dangling link or a loop is read, and reported
        return release_defaults(), []
    data, problems = read_checked_json(layout, layout.release_settings_path, "release.schema.json", "config-error")
    if problems:
        return None, problems
    file = layout.relative(layout.release_settings_path)
    problems = [Problem("config-error", file, message, pointer=pointer) for pointer, message in split_settings_problems(data)]
    return (None if problems else data), problems
