"""Text as arrays of code points, classed as `re` classes them: what NER tokens and near-duplicate
shingles are cut from without a Python object per word."""

from __future__ import annotations

import re

import numpy as np

OTHER, WORD, SPACE = 0, 1, 2
_classes = np.full(0x110000, -1, dtype=np.int8)  # by code point: WORD, SPACE or OTHER once asked, else -1


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


def utf8_offsets(utf8: np.ndarray) -> np.ndarray:
    """Where each code point of UTF-8 bytes starts, and the length at the end: code point k is bytes [at[k], at[k+1])."""
    return np.append(np.flatnonzero((utf8 & 0xC0) != 0x80), len(utf8))
