"""Carry: the labels of a task whose article was corrected after export, moved onto the corrected text.

The task's title and text are each diffed against the corpus's with rapidfuzz's Levenshtein
opcodes (a minimal character edit script, and deterministic). A span that lies wholly in one
unchanged stretch moves by that stretch's shift. A span that an edit changes or cuts into is not
carried, and neither is one that an edit extends: a letter or digit added or removed right at its
edge ("Kabul" -> "Kabuls") changes the word it covers. Nothing is ever re-aligned by searching.
"""

from __future__ import annotations

import dataclasses
import os
import re
from bisect import bisect_right
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .records import AnnotationRecord, Span

EXCERPT = 40  # characters shown of each side of an edit or a difference
EDITS_SHOWN = 5
NONSPACE_BEFORE = re.compile(r"\S*$")  # edits are shown widened to whitespace on either side
NONSPACE_AFTER = re.compile(r"\S*")


def shorten(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "…" + text[-(limit // 2) :]


@dataclass(frozen=True)
class Edit:
    """One changed stretch: old_* offsets are in the task's text, new_* in the corpus's."""

    part: str  # "title" or "text"
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    removed: str
    inserted: str
    shown_at: int  # where `before` starts in the task's text
    before: str  # the stretch as the annotators saw it, widened to whitespace for people to read
    after: str  # the same, as the corpus has it now

    def describe(self) -> str:
        return f"{self.part} character {self.shown_at}: {shorten(self.before)!r} -> {shorten(self.after)!r}"

    def extends(self, edge: str) -> bool:
        """Whether this edit adds or removes a letter or digit right against a span's `edge` ("start" or "end")."""
        touching = [s[-1:] if edge == "start" else s[:1] for s in (self.removed, self.inserted)]
        return any(c.isalnum() for c in touching)


@dataclass(frozen=True)
class Unchanged:
    old_start: int
    old_end: int
    new_start: int
    edit_before: Edit | None
    edit_after: Edit | None


class PartDiff:
    """How one part (title or text) of a task became the corpus's, and where each of its spans goes."""

    def __init__(self, part: str, old: str, new: str):
        self.part = part
        segments: list[list] = []  # [equal?, old_start, old_end, new_start, new_end]; adjacent edits merged
        for op in Levenshtein.opcodes(old, new):
            equal = op.tag == "equal"
            if segments and not equal and not segments[-1][0]:
                segments[-1][2], segments[-1][4] = op.src_end, op.dest_end
            else:
                segments.append([equal, op.src_start, op.src_end, op.dest_start, op.dest_end])
        edits: dict[int, Edit] = {}
        for k, (equal, o0, o1, n0, n1) in enumerate(segments):
            if not equal:
                left = len(NONSPACE_BEFORE.search(old, max(segments[k - 1][1], o0 - EXCERPT), o0).group()) if k > 0 else 0
                right = len(NONSPACE_AFTER.match(old, o1, min(segments[k + 1][2], o1 + EXCERPT)).group()) if k + 1 < len(segments) else 0
                edits[k] = Edit(part, o0, o1, n0, n1, old[o0:o1], new[n0:n1], o0 - left, old[o0 - left : o1 + right], new[n0 - left : n1 + right])
        self.edits = list(edits.values())
        self.unchanged = [Unchanged(o0, o1, n0, edits.get(k - 1), edits.get(k + 1))
                          for k, (equal, o0, o1, n0, _) in enumerate(segments) if equal]
        self._starts = [u.old_start for u in self.unchanged]

    def move(self, span: Span) -> Span | Edit:
        """The span at its offsets in the corpus's text, or the edit that keeps it from being carried."""
        i = bisect_right(self._starts, span.start) - 1
        if i < 0:
            return self.edits[0]
        stretch = self.unchanged[i]
        if span.end > stretch.old_end:
            return stretch.edit_after
        if span.start == stretch.old_start and stretch.edit_before and stretch.edit_before.extends("start"):
            return stretch.edit_before
        if span.end == stretch.old_end and stretch.edit_after and stretch.edit_after.extends("end"):
            return stretch.edit_after
        shift = stretch.new_start - stretch.old_start
        return span._replace(start=span.start + shift, end=span.end + shift)


@dataclass(frozen=True)
class LostSpan:
    """A span of a task that cannot be carried, and the edit that touched it."""

    part: str
    span: Span
    edit: Edit
    annotation_id: int


@dataclass
class TaskChange:
    """A stale task's title and text against the corpus's: the diffs, and the records moved through them."""

    diffs: dict[str, PartDiff]

    @classmethod
    def between(cls, seen: dict[str, str], article: dict) -> "TaskChange":
        return cls({part: PartDiff(part, seen[part], article[part])
                    for part in ("title", "text") if part in seen and seen[part] != article[part]})

    @property
    def edits(self) -> list[Edit]:
        return [e for diff in self.diffs.values() for e in diff.edits]

    def describe(self) -> str:
        edits = self.edits
        shown = "; ".join(e.describe() for e in edits[:EDITS_SHOWN])
        more = f"; and {len(edits) - EDITS_SHOWN} more" if len(edits) > EDITS_SHOWN else ""
        return f"{len(edits)} edit{'s' if len(edits) != 1 else ''}: {shown}{more}"

    def carry(self, record: AnnotationRecord) -> tuple[AnnotationRecord, list[LostSpan]]:
        """The record with every span that can be carried moved to the corpus's offsets (and each
        relation whose two spans both moved, and each moved span's link), and the spans that cannot be carried."""
        lost: list[LostSpan] = []
        moved: dict[tuple[str, Span], Span] = {}
        for part, spans in (("title", record.title_entities), ("text", record.entities)):
            diff = self.diffs.get(part)
            for span in spans:
                where = diff.move(span) if diff else span
                if isinstance(where, Edit):
                    lost.append(LostSpan(part, span, where, record.annotation_id))
                else:
                    moved[part, span] = where

        def kept(part: str, spans: list[Span]) -> list[Span]:
            return [moved[part, s] for s in spans if (part, s) in moved]

        relations = [dataclasses.replace(r, head=moved["text", r.head], tail=moved["text", r.tail])
                     for r in record.relations if ("text", r.head) in moved and ("text", r.tail) in moved]
        links = {moved["text", span]: link for span, link in record.links.items() if ("text", span) in moved}
        carried = dataclasses.replace(record, entities=kept("text", record.entities), title_entities=kept("title", record.title_entities),
                                      relations=relations, links=links, carried_forward=True)
        return carried, lost


def stale_difference(seen: dict[str, str], article: dict) -> str:
    """Which of title and text a stale task has differently from the corpus, and where each first differs."""
    parts = [part for part in ("title", "text") if part in seen and seen[part] != article[part]]
    return "; ".join(f"the {part} differs, {first_difference(seen[part], article[part])}" for part in parts)


def first_difference(old: str, new: str) -> str:
    """Where two versions of a text first differ, with a short excerpt of each side."""
    i = len(os.path.commonprefix([old, new]))
    start = max(0, i - EXCERPT // 2)

    def excerpt(text: str) -> str:
        return repr(("…" if start else "") + text[start : i + EXCERPT // 2] + ("…" if len(text) > i + EXCERPT // 2 else ""))

    return f"first difference at character {i}: the task has {excerpt(old)}, the corpus has {excerpt(new)}"
