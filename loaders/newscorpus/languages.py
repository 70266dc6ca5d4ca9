"""An article's `language`: a BCP 47 tag whose subtags the IANA registry assigns (langcodes), and
the scripts that language is usually written in (CLDR's likely subtags, through langcodes'
`maximize`), against which the letters of its text are counted by Unicode script. No language
is ever guessed from the text: the check only says when the declared one cannot be right.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import langcodes
import numpy as np
from langcodes.data_dicts import LIKELY_SUBTAGS

from .codepoints import LETTER, code_points, general_categories, script_sets, written_in_scripts

# language subtags that name no language, so no script is expected of their text (und parses to None)
NO_LANGUAGE = frozenset({None, "und", "mul", "mis", "zxx"})
# a code point that is no letter (or a letter of no particular script), a letter in the language's scripts, a letter in another
UNCOUNTED, OWN, FOREIGN = 0, 1, 2
# ISO 15924 codes for a writing system made of several Unicode scripts
SCRIPT_PARTS = {"Hans": {"Hani"}, "Hant": {"Hani"}, "Hanb": {"Hani", "Bopo"}, "Jpan": {"Hani", "Hira", "Kana"}, "Kore": {"Hang", "Hani"}}


@lru_cache(maxsize=1024)
def unknown_language(tag: str) -> str | None:
    """Why `tag` is no registered BCP 47 tag, or None when it is one."""
    if langcodes.tag_is_valid(tag):
        return None
    return f"language {tag!r} is not a BCP 47 tag of the IANA registry (such as en, de-CH, zh-Hant or sr-Latn)"


@lru_cache(maxsize=1024)
def written_in(tag: str) -> frozenset[str]:
    """The Unicode scripts (ISO 15924) of a registered tag's script: the tag's own script subtag, else
    its language's likely one (en: Latn; zh-TW: Hant; ja: Jpan, so Han, Hiragana and Katakana);
    empty for und, mul, mis, zxx, private-use languages and languages CLDR gives no likely script
    (`maximize` would fill in und's, English's Latin: a guess)."""
    language = langcodes.Language.get(tag)
    if language.script:
        script = language.script
    elif language.language in LIKELY_SUBTAGS and language.language not in NO_LANGUAGE:
        script = language.maximize().script
    else:
        return frozenset()
    return frozenset(SCRIPT_PARTS.get(script, {script}))


def script_name(code: str) -> str:
    return f"{langcodes.Language.make(script=code).script_name()} ({code})"


@lru_cache(maxsize=16)
def letter_kinds_table(scripts: frozenset[str]) -> np.ndarray:
    """By code point, once asked: UNCOUNTED, OWN or FOREIGN for a language written in `scripts`; -1 before."""
    return np.full(0x110000, -1, dtype=np.int8)


def letter_kinds(points: np.ndarray, scripts: frozenset[str]) -> np.ndarray:
    table = letter_kinds_table(scripts)
    kinds = np.take(table, points)
    unknown = kinds < 0
    if unknown.any():
        distinct = np.unique(points[unknown])
        letter = general_categories(distinct) == LETTER
        scripted = script_sets()[0][distinct] != 0
        table[distinct] = np.where(letter & scripted, np.where(written_in_scripts(scripts)[distinct], OWN, FOREIGN), UNCOUNTED)
        kinds = np.take(table, points)
    return kinds


def script_mismatch(tag: str, text: str) -> str | None:
    """Why most of `text`'s letters cannot be in language `tag` (a registered tag): they are in
    scripts it is not written in. Letters of no particular script (Common, Inherited) are not counted.
    None when the letters agree, or when there is nothing to compare."""
    scripts = written_in(tag)
    if not scripts or (text.isascii() and "Latn" in scripts):
        return None
    points = code_points(text)
    kinds = letter_kinds(points, scripts)
    foreign, own = np.count_nonzero(kinds == FOREIGN), np.count_nonzero(kinds == OWN)
    if foreign <= own:
        return None
    table, sets = script_sets()
    by_script = Counter()
    for script_set, n in zip(sets, np.bincount(table[points[kinds == FOREIGN]], minlength=len(sets)).tolist()):
        by_script.update(dict.fromkeys(script_set, n))
    most = sorted((s for s in by_script if by_script[s]), key=lambda s: (-by_script[s], s))[:3]
    return (f"language {tag!r} is written in {', '.join(script_name(s) for s in sorted(scripts))}, but {foreign} of the "
            f"{foreign + own} letters are in other scripts, most in {', '.join(script_name(s) for s in most)}: "
            f"declare the article's own language, with a script subtag where it is written in several (sr-Latn)")
