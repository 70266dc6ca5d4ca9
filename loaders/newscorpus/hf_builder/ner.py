"""The `ner` config: one row per paragraph (non-empty line) of an annotated title or text, with
BIO tags over its tokens.

Where spans nest or cross, the outermost is kept; every span is counted as kept or dropped by
reason, for the dataset card. A chunk of articles is converted at once: its titles and texts are
joined by newlines (a token never holds one), tokenized once, and spans find their tokens by
binary search over the whole chunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .tokens import NEWLINE, tokenize

SpanTuple = tuple[int, int, str]  # start, end, label


@dataclass
class NerPart:
    """The title or the text of one annotated article, with its gold spans."""

    article_id: str
    part: str  # "title" or "text"
    text: str
    spans: Iterable[SpanTuple]


def outermost(spans: Iterable[SpanTuple], counts: Counter) -> Iterator[SpanTuple]:
    """Longest-first at each start; a span inside a kept one is nested, one that overlaps it crosses."""
    kept_end = -1
    for span in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        if span[0] < kept_end:
            counts["ner_spans"] += 1
            counts[f"ner_dropped_{'nested' if span[1] <= kept_end else 'crossing'}"] += 1
            continue
        kept_end = span[1]
        yield span


def count(counts: Counter, key: str, n) -> None:
    """Only counts that happened are kept: a card lists no zero rows."""
    if n:
        counts[key] += int(n)


def ner_columns(parts: list[NerPart], bio_names: list[str], counts: Counter) -> dict[str, pa.Array]:
    tokens = tokenize("\n".join(part.text for part in parts))
    lengths = np.fromiter((len(part.text) + 1 for part in parts), dtype=np.int64, count=len(parts))
    part_starts = np.zeros(len(parts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=part_starts[1:])
    newlines = np.flatnonzero(tokens.code_points == NEWLINE)
    # a row is one non-empty line that has tokens; its paragraph number counts the non-empty lines before it in its part
    line = np.searchsorted(newlines, tokens.starts)
    row_first = np.flatnonzero(np.diff(line, prepend=-1)) if len(line) else line
    row_offsets = np.append(row_first, len(line)).astype(np.int32)
    line_starts = np.concatenate(([0], newlines + 1))
    line_ends = np.append(newlines, len(tokens.code_points))
    nonempty_before = np.concatenate(([0], np.cumsum(line_ends > line_starts)))
    row_part = np.searchsorted(part_starts, tokens.starts[row_first], "right") - 1
    paragraph = nonempty_before[line[row_first]] - nonempty_before[np.searchsorted(newlines, part_starts)[row_part]]
    token_part = np.repeat(row_part, np.diff(row_offsets))
    tags = bio_tags(parts, part_starts, tokens, newlines, bio_names, counts)
    ids = [f"{parts[p].article_id}/{parts[p].part}/{n}" for p, n in zip(row_part.tolist(), paragraph.tolist())]

    def per_token(values: pa.Array) -> pa.ListArray:
        return pa.ListArray.from_arrays(pa.array(row_offsets), values)

    return {
        "id": pa.array(ids, pa.string()),
        "article_id": pa.array([parts[p].article_id for p in row_part.tolist()], pa.string()),
        "part": pa.array([parts[p].part for p in row_part.tolist()], pa.string()),
        "paragraph": pa.array(paragraph.astype(np.int32)),
        "tokens": per_token(tokens.strings()),
        "token_start": per_token(pa.array((tokens.starts - part_starts[token_part]).astype(np.int32))),
        "token_end": per_token(pa.array((tokens.ends - part_starts[token_part]).astype(np.int32))),
        "ner_tags": per_token(pa.array(tags)),
    }


def bio_tags(parts: list[NerPart], part_starts: np.ndarray, tokens, newlines: np.ndarray, bio_names: list[str], counts: Counter) -> np.ndarray:
    """The tag id of every token: B- on a kept span's first whole token, I- on the rest, else O (0)."""
    tag_ids = {name: i for i, name in enumerate(bio_names)}
    starts, ends, begin_tags, inside_tags = [], [], [], []
    for base, part in zip(part_starts.tolist(), parts):
        for start, end, label in outermost(part.spans, counts):
            starts.append(base + start)
            ends.append(base + end)
            begin_tags.append(tag_ids[f"B-{label}"])
            inside_tags.append(tag_ids[f"I-{label}"])
    tags = np.zeros(len(tokens.starts) + 1, dtype=np.int64)
    if not starts:
        return tags[:-1]
    starts, ends = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    begin_tags, inside_tags = np.array(begin_tags, dtype=np.int64), np.array(inside_tags, dtype=np.int64)
    count(counts, "ner_spans", len(starts))
    line_end = np.append(newlines, len(tokens.code_points))[np.searchsorted(newlines, starts)]
    in_paragraph = (tokens.code_points[starts] != NEWLINE) & (ends <= line_end)
    first = np.searchsorted(tokens.starts, starts, "left")
    last = np.searchsorted(tokens.ends, ends, "right")  # tokens first..last-1 lie wholly inside the span
    kept = in_paragraph & (last > first)
    count(counts, "ner_dropped_crosses_paragraph", np.count_nonzero(~in_paragraph))
    count(counts, "ner_dropped_no_whole_token", np.count_nonzero(in_paragraph & ~kept))
    count(counts, "ner_spans_kept", np.count_nonzero(kept))
    first, last = first[kept], last[kept]
    count(counts, "ner_spans_trimmed_to_tokens",
          np.count_nonzero((tokens.starts[first] != starts[kept]) | (tokens.ends[last - 1] != ends[kept])))
    # kept spans never share a token, so each I- run is a +tag at its second token and a -tag after its last
    tags[first + 1] += inside_tags[kept]
    tags[last] -= inside_tags[kept]
    tags = np.cumsum(tags)[:-1]
    tags[first] = begin_tags[kept]
    return tags
