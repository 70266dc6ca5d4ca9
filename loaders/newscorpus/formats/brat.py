"""brat standoff: `<split>/<id>.txt` and `<id>.ann` per article, and the folder's
`annotation.conf` and `visual.conf` from the release's labels, so brat opens it as it is.

The `.txt` is the title, a newline, then the text, so that title spans can be annotations too:
a title span keeps its offsets, a text span's move by the title's length plus one. brat has no
document-level annotation (nlplab/brat#1370 suggests a text-bound one at the start), so the title
line is a `Title` annotation, and the topics are its note.
"""

from __future__ import annotations

import re
from collections import Counter

from .release_rows import ExportedArticle, ReleaseLabels

TITLE_TYPES = ("Title", "Article_title", "newscorpus_title")  # the first that is not an entity label
# A colour per label, in label order, repeated past the end (pale, so that text stays readable).
COLOURS = ("#ffccaa", "#aaccff", "#ccffaa", "#ffaacc", "#ccaaff", "#aaffcc", "#ffffaa", "#aaffff", "#ffaaff",
           "#ddbb99", "#99bbdd", "#bbdd99", "#dd99bb", "#bb99dd", "#99ddbb", "#dddd99", "#99dddd", "#dd99dd")


def brat_type(label: str) -> str:
    """brat type names hold no whitespace; visual.conf shows the label as it is."""
    return re.sub(r"\s+", "_", label)


def one_line(text: str) -> str:
    """The free text that ends an N or note line: brat reads an `.ann` a line at a time, so every
    whitespace run becomes one space, as brat joins the fragments of a span over a line break."""
    return re.sub(r"\s+", " ", text)


def title_type(labels: ReleaseLabels) -> str:
    taken = {brat_type(name) for name in labels.entities}
    return next(name for name in TITLE_TYPES if name not in taken)


def annotation_conf(labels: ReleaseLabels) -> str:
    lines = ["[entities]", title_type(labels), *(brat_type(n) for n in labels.entities), "", "[relations]"]
    lines += [f"{brat_type(n)}\tArg1:<ENTITY>, Arg2:<ENTITY>" for n in labels.relations]
    # nested and crossing spans are kept: brat refuses overlaps that are not declared
    lines += ["<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>", "", "[events]", "", "[attributes]", ""]
    return "\n".join(lines)


def visual_conf(labels: ReleaseLabels) -> str:
    title = title_type(labels)
    lines = ["[labels]", f"{title} | Title", *(f"{brat_type(n)} | {n}" for n in labels.entities + labels.relations), "", "[drawing]",
             "SPAN_DEFAULT\tfgColor:black, bgColor:lightgreen, borderColor:darken",
             "ARC_DEFAULT\tcolor:black, arrowHead:triangle-5", f"{title}\tbgColor:#eeeeee"]
    lines += [f"{brat_type(n)}\tbgColor:{COLOURS[i % len(COLOURS)]}" for i, n in enumerate(labels.entities)]
    return "\n".join(lines) + "\n"


def brat_document(article: ExportedArticle, labels: ReleaseLabels, unheld: Counter) -> tuple[str, str]:
    """The `.txt` and `.ann` of one article."""
    text = f"{article.title}\n{article.text}"
    shift = len(article.title) + 1
    lines = []
    if article.title.strip():
        lines.append(text_bound("T1", title_type(labels), 0, len(article.title), text))
        if article.topics:
            lines.append(f"#1\tAnnotatorNotes T1\ttopics: {one_line(' | '.join(article.topics))}")
    else:  # nothing to anchor a note to
        unheld["topics of articles with an empty title"] += len(article.topics)
    number = 1
    entity_ids = []
    normalizations = 0
    for part, offset in (("title", 0), ("text", shift)):
        for entity in article.part_entities(part):
            number += 1
            entity_ids.append(f"T{number}")
            lines.append(text_bound(f"T{number}", brat_type(entity["label"]), offset + entity["start"], offset + entity["end"], text))
            if entity.get("kb_id"):
                normalizations += 1
                lines.append(f"N{normalizations}\tReference T{number} KB:{entity['kb_id']}\t{one_line(entity['text'])}")
    text_ids = entity_ids[len(article.title_entities):]
    for index, (head, tail, label) in enumerate(article.relations, start=1):
        lines.append(f"R{index}\t{brat_type(label)} Arg1:{text_ids[head]} Arg2:{text_ids[tail]}")
    return text + "\n", "".join(line + "\n" for line in lines)


def text_bound(annotation_id: str, type_name: str, start: int, end: int, text: str) -> str:
    """A T line; a span over a line break is one fragment per line, as brat writes it."""
    fragments, position = [], start
    for line in text[start:end].split("\n"):
        if line:
            fragments.append((position, position + len(line)))
        position += len(line) + 1
    return f"{annotation_id}\t{type_name} " + ";".join(f"{s} {e}" for s, e in fragments) + "\t" + " ".join(text[s:e] for s, e in fragments)
