"""Text as arrays of code points, classed as `re` classes them (what NER tokens and near-duplicate
shingles are cut from without a Python object per word), and by Unicode script and general
category (what tokens of scripts written without spaces and the language check need)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

import numpy as np
from fontTools import unicodedata as ucd

OTHER, WORD, SPACE = 0, 1, 2
_classes = np.full(0x110000, -1, dtype=np.int8)  # by code point: WORD, SPACE or OTHER once asked, else -1

NEITHER, LETTER, MARK = 0, 1, 2  # the general categories L* and M*, else NEITHER
_categories = np.full(0x110000, -1, dtype=np.int8)  # by code point: LETTER, MARK or NEITHER once asked, else -1
NO_SCRIPT = frozenset({"Zyyy", "Zinh", "Zzzz"})  # Common, Inherited, Unknown: written in no particular script


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def code_point_classes(points: np.ndarray) -> np.ndarray:
    """WORD where `re`'s `\\w` matches, SPACE where `\\s` does, else OTHER: `re` is asked once per distinct code point."""
    kinds = _classes[points]
    unknown = kinds < 0
    if unknown.any():
        for c in np.unique(points[unknown]).tolist():
            char = chr(c)
            _classes[c] = WORD if re.match(r"\w", char) else SPACE if re.match(r"\s", char) else OTHER
        kinds = _classes[points]
    return kinds


def general_categories(points: np.ndarray) -> np.ndarray:
    """LETTER, MARK or NEITHER for each code point: Python's unicodedata is asked once per distinct code point."""
    categories = np.take(_categories, points)
    unknown = categories < 0
    if unknown.any():
        for c in np.unique(points[unknown]).tolist():
            _categories[c] = {"L": LETTER, "M": MARK}.get(unicodedata.category(chr(c))[0], NEITHER)
        categories = np.take(_categories, points)
    return categories


@lru_cache(maxsize=1)
def script_sets() -> tuple[np.ndarray, tuple[frozenset[str], ...]]:
    """For every code point, an index into the tuple of the sets of ISO 15924 scripts it is written in:
    its Unicode Script_Extensions, else its Script (fontTools' copies of ScriptExtensions.txt and
    Scripts.txt), so that the Katakana-Hiragana prolonged sound mark, whose Script is Common, is
    Hiragana and Katakana. Common, Inherited and Unknown give the empty set (index 0). Built once from
    the files' few thousand ranges, which makes a script a table look-up per code point."""
    bounds = sorted(set(ucd.Scripts.RANGES) | set(ucd.ScriptExtensions.RANGES))
    sets: dict[frozenset[str], int] = {frozenset(): 0}
    ids = []
    for start in bounds:
        extension = ucd.ScriptExtensions.VALUES[bisect_right(ucd.ScriptExtensions.RANGES, start) - 1]
        scripts = frozenset(extension or {ucd.Scripts.VALUES[bisect_right(ucd.Scripts.RANGES, start) - 1]}) - NO_SCRIPT
        ids.append(sets.setdefault(scripts, len(sets)))
    table = np.repeat(np.array(ids, dtype=np.int16), np.diff(bounds + [0x110000]))
    return table, tuple(sets)


@lru_cache(maxsize=16)
def written_in_scripts(scripts: frozenset[str]) -> np.ndarray:
    """For every code point, whether it is written in one of `scripts`."""
    table, sets = script_sets()
    return np.array([bool(s & scripts) for s in sets])[table]


def utf8_offsets(utf8: np.ndarray) -> np.ndarray:
    """Where each code point of UTF-8 bytes starts, and the length at the end: code point k is bytes [at[k], at[k+1])."""
    return np.append(np.flatnonzero((utf8 & 0xC0) != 0x80), len(utf8))
