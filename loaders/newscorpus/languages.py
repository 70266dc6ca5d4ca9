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

from .codepoints import LETTER, SCRIPT_SETS, code_points, general_categories, script_set_ids

# a language subtag that names no language, so no script is expected of its text
NO_LANGUAGE = frozenset({"und", "mul", "mis", "zxx"})
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
    its language's likely one (en: Latn; ja: Jpan, so Han, Hiragana and Katakana); empty for
    und, mul, mis, zxx and private-use languages."""
    language = langcodes.Language.get(tag)
    if language.language is None or language.language in NO_LANGUAGE or "qaa" <= language.language <= "qtz":  # und parses to None
        return frozenset()
    script = language.maximize().script
    return frozenset(SCRIPT_PARTS.get(script, {script}))


def script_name(code: str) -> str:
    return f"{langcodes.Language.make(script=code).script_name()} ({code})"


def script_mismatch(tag: str, text: str) -> str | None:
    """Why most of `text`'s letters cannot be in language `tag` (a registered tag): they are in
    scripts it is not written in. Letters of no particular script (Common, Inherited) are not counted.
    None when the letters agree, or when there is nothing to compare."""
    scripts = written_in(tag)
    if not scripts or (text.isascii() and "Latn" in scripts):
        return None
    points = code_points(text)
    ids = script_set_ids(points)[general_categories(points) == LETTER]
    letters = np.bincount(ids, minlength=len(SCRIPT_SETS))
    foreign_letters, by_script = 0, Counter()
    for script_set, n in zip(SCRIPT_SETS, letters.tolist()):
        if n and script_set and not script_set & scripts:
            foreign_letters += n
            by_script.update(dict.fromkeys(script_set, n))
    if 2 * foreign_letters <= len(ids):
        return None
    most = sorted(by_script, key=lambda s: (-by_script[s], s))[:3]
    return (f"language {tag!r} is written in {', '.join(script_name(s) for s in sorted(scripts))}, but {foreign_letters} of the "
            f"{len(ids)} letters are in other scripts, most in {', '.join(script_name(s) for s in most)}: declare the article's own language, with a script subtag where "
            f"it is written in several (sr-Latn)")
