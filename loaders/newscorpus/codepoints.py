"""Text as arrays of code points, classed as `re` classes them (what NER tokens and near-duplicate
shingles are cut from without a Python object per word), and by Unicode script and general
category (what tokens of scripts written without spaces and the language check need)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from fontTools import unicodedata as ucd

OTHER, WORD, SPACE = 0, 1, 2
_classes = np.full(0x110000, -1, dtype=np.int8)  # by code point: WORD, SPACE or OTHER once asked, else -1

NEITHER, LETTER, MARK = 0, 1, 2  # the general categories L* and M*, else NEITHER
SCRIPT_SETS: list[frozenset[str]] = [frozenset()]  # a script-set id -> the ISO 15924 scripts a code point is written in
_script_set_ids: dict[frozenset[str], int] = {frozenset(): 0}
_scripts = np.full(0x110000, -1, dtype=np.int16)  # by code point: its script-set id once asked, else -1
_categories = np.zeros(0x110000, dtype=np.int8)  # by code point: LETTER, MARK or NEITHER, filled with _scripts


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


def script_set_ids(points: np.ndarray) -> np.ndarray:
    """Each code point's id in SCRIPT_SETS: its Unicode Script_Extensions (fontTools' copy of
    ScriptExtensions.txt), so that the Katakana-Hiragana prolonged sound mark, whose Script is
    Common, counts as Hiragana and Katakana; Common and Inherited alone give the empty set.
    fontTools is asked once per distinct code point."""
    ids = _scripts[points]
    unknown = ids < 0
    if unknown.any():
        for c in np.unique(points[unknown]).tolist():
            char = chr(c)
            scripts = frozenset(ucd.script_extension(char)) - {"Zyyy", "Zinh", "Zzzz"}
            if scripts not in _script_set_ids:
                _script_set_ids[scripts] = len(SCRIPT_SETS)
                SCRIPT_SETS.append(scripts)
            _scripts[c] = _script_set_ids[scripts]
            _categories[c] = {"L": LETTER, "M": MARK}.get(unicodedata.category(char)[0], NEITHER)
        ids = _scripts[points]
    return ids


def general_categories(points: np.ndarray) -> np.ndarray:
    """LETTER, MARK or NEITHER for each code point (Python's unicodedata)."""
    script_set_ids(points)
    return _categories[points]


def in_scripts(ids: np.ndarray, scripts: frozenset[str]) -> np.ndarray:
    """Where a code point of these script-set ids is written in one of `scripts`."""
    member = np.fromiter((bool(s & scripts) for s in SCRIPT_SETS), dtype=bool, count=len(SCRIPT_SETS))
    return member[ids]


def utf8_offsets(utf8: np.ndarray) -> np.ndarray:
    """Where each code point of UTF-8 bytes starts, and the length at the end: code point k is bytes [at[k], at[k+1])."""
    return np.append(np.flatnonzero((utf8 & 0xC0) != 0x80), len(utf8))
