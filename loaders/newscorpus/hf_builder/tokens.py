"""NER tokens of many texts at once, in numpy and Arrow: no Python object per token.

The tokens are TOKEN's matches, OntoNotes-style: a possessive 's and each hyphen or other
punctuation mark are tokens of their own, so "anti-Taliban" and "Taliban's" hold a whole token
"Taliban" for an entity span, and every non-space character is in exactly one token. Python's
`re` found them at about 300 ns a token, the largest part of a 100,000-article build. Here each
code point is classed as word, space or other by `re`'s own `\\w` and `\\s` (asked once per
distinct code point), and the tokens are the runs of word characters and the single others.

Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar,
Tibetan) have no word runs to cut: there each word character is a token of its own, as BERT's
basic tokenizer does for CJK ideographs, with the combining marks that follow it (a Thai vowel
sign or tone mark belongs to its consonant), so an entity in them always holds whole tokens.
Text in other scripts keeps TOKEN's tokens. tests/test_tokens.py holds both against a
character-by-character definition on real and random text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..codepoints import MARK, OTHER, SPACE, WORD, code_point_classes, code_points, general_categories, utf8_offsets, written_in_scripts

TOKEN = re.compile(r"['’]s\b|\w+|[^\w\s]")
APOSTROPHES = (ord("'"), ord("’"))
NEWLINE = ord("\n")
ASCII_SPACE = np.zeros(256, dtype=bool)  # the bytes of \s below U+0080 (a UTF-8 continuation byte is never one)
ASCII_SPACE[[c for c in range(128) if re.match(r"\s", chr(c))]] = True
UNSPACED_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})  # ISO 15924


@dataclass
class Tokens:
    """The tokens of one text (often many joined by "\\n"), as code-point offsets in order."""

    text: str
    code_points: np.ndarray  # uint32
    kinds: np.ndarray  # int8: OTHER, WORD or SPACE of each code point
    starts: np.ndarray  # int64
    ends: np.ndarray

    def strings(self) -> pa.StringArray:
        """The token texts, cut from the UTF-8 bytes: every non-space byte is in one token, in order."""
        utf8 = np.frombuffer(self.text.encode("utf-8"), dtype=np.uint8)
        byte_at = utf8_offsets(utf8)
        space = self.kinds == SPACE
        if space[self.code_points >= 0x80].any():  # a space beyond ASCII: every byte of it is left out
            in_token = np.repeat(~space, np.diff(byte_at))
        else:
            in_token = ~ASCII_SPACE[utf8]
        offsets = np.zeros(len(self.starts) + 1, dtype=np.int64)
        np.cumsum(byte_at[self.ends] - byte_at[self.starts], out=offsets[1:])
        return pa.LargeStringArray.from_buffers(len(self.starts), pa.py_buffer(offsets), pa.py_buffer(utf8[in_token])).cast(pa.string())


def unspaced(cp: np.ndarray, word: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The word characters of scripts written without spaces (each a token) and the combining marks
    that join the token before them (a run of marks right after such a character); None for text
    that has none, which is most text, and keeps the cost of this to one table look-up per code point."""
    alone = word & np.take(written_in_scripts(UNSPACED_SCRIPTS), cp)
    if not alone.any():
        return None
    mark = general_categories(cp) == MARK
    if not mark.any():  # Chinese and Japanese: no combining marks to join
        return alone, mark
    last_base = np.maximum.accumulate(np.where(mark, -1, np.arange(len(cp))))  # the last code point before each that is no mark
    joined = mark & (last_base >= 0) & alone[np.maximum(last_base, 0)]
    return alone, joined


def tokenize(text: str) -> Tokens:
    """Tokens never overlap, so the k-th start pairs with the k-th end: both come from masks."""
    cp = code_points(text)
    if not len(cp):
        empty = np.zeros(0, dtype=np.int64)
        return Tokens(text, cp, np.zeros(0, dtype=np.int8), empty, empty)
    kinds = code_point_classes(cp)
    word = kinds == WORD
    starts = kinds == OTHER
    ends = starts.copy()
    characters = unspaced(cp, word)
    run = word
    if characters is not None:
        alone, joined = characters
        run = word & ~alone
        starts = (starts & ~joined) | alone
        ends = (starts | joined) & ~np.append(joined[1:], False)
    starts[0] |= run[0]
    starts[1:] |= run[1:] & ~run[:-1]
    ends[:-1] |= run[:-1] & ~run[1:]
    ends[-1] |= run[-1]
    # an apostrophe, "s", then no word character: "'s" is one token (TOKEN's first alternative)
    apostrophes = np.flatnonzero((cp[:-1] == APOSTROPHES[0]) | (cp[:-1] == APOSTROPHES[1]))
    possessive = apostrophes[cp[apostrophes + 1] == ord("s")]
    possessive = possessive[(possessive + 2 >= len(cp)) | ~word[np.minimum(possessive + 2, len(cp) - 1)]]
    starts[possessive + 1] = False
    ends[possessive] = False
    return Tokens(text, cp, kinds, np.flatnonzero(starts), np.flatnonzero(ends) + 1)
