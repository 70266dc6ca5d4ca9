"""The agreement report as text, JSON or one self-contained HTML page (no script, no network).

The page shows each pair measure as a heatmap (an annotator x annotator table whose cells are
coloured by value), the label confusion matrix, bars per label, and every disagreeing span in its
sentence, highlighted. Each number is printed as the text format prints it (3 decimals).
"""

from __future__ import annotations

import json
from html import escape

from .measures import Disagreement

PAIR_MEASURES = (("span_f1", "Exact span F1"), ("overlap_f1", "Overlap span F1"), ("token_kappa", "Token kappa (Cohen, BIO tags)"))
KINDS = (("label", "same place, other label"), ("boundary", "same label, other ends"), ("unmatched", "no overlapping span at all"))


def number(value) -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def table_lines(header: list[str], rows: list[list]) -> list[str]:
    cells = [header] + [[number(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def render_text(report: dict) -> str:
    lines = [f"articles with 2+ annotators: {report['articles']}", ""]
    sections = [
        ("annotators", ["annotator", "articles", "spans"], [[a["annotator"], a["articles"], a["spans"]] for a in report["annotators"]]),
        ("pairs", ["a", "b", "articles", "span_f1", "overlap_f1", "token_kappa"],
         [[p["a"], p["b"], p["articles"], p["span_f1"], p["overlap_f1"], p["token_kappa"]] for p in report["pairs"]]),
        ("labels", ["label", "spans", "span_f1"], [[x["label"], x["spans"], x["span_f1"]] for x in report["labels"] if x["spans"]]),
        ("disagreements", ["kind", "count", "meaning"], [[kind, report["disagreements"][kind], meaning] for kind, meaning in KINDS]),
        ("confusion", ["label", "label", "count"], [[*c["labels"], c["count"]] for c in report["confusion"]]),
        ("topics", ["topic", "alpha"], [["(all)", report["topics"]["alpha"]]] + [[t["topic"], t["alpha"]] for t in report["topics"]["labels"]]),
        ("against gold", ["annotator", "articles", "precision", "recall", "f1"],
         [[g["annotator"], g["articles"], g["precision"], g["recall"], g["f1"]] for g in report["against_gold"]]),
    ]
    for title, header, rows in sections:
        lines += [f"{title}:", *("  " + line for line in table_lines(header, rows)), ""]
    lines.append(f"relations span_f1: {number(report['relations']['span_f1'])}")
    return "\n".join(lines) + "\n"


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; font-family: monospace; }
.bar { display: inline-block; height: .9em; background: #4c72b0; vertical-align: middle; }
.sentence { font-family: Georgia, serif; }
mark.a { background: #ffd8a8; } mark.b { background: #a5d8ff; } mark.ab { background: #b2f2bb; }
li { margin: .4em 0; } .meta { color: #666; font-size: .9em; }
"""


def heat(value: float | None) -> str:
    """A cell colour from white (0 or less) to green (1)."""
    if value is None:
        return ""
    level = max(0.0, min(1.0, value))
    return f' style="background: rgb({int(255 - 120 * level)}, {int(255 - 30 * level)}, {int(255 - 120 * level)})"'


def pair_matrix(report: dict, measure: str) -> list[str]:
    names = [a["annotator"] for a in report["annotators"]]
    values = {}
    for p in report["pairs"]:
        values[p["a"], p["b"]] = values[p["b"], p["a"]] = p[measure]
    rows = ["<tr><th></th>" + "".join(f'<th class="name">{escape(n)}</th>' for n in names) + "</tr>"]
    for a in names:
        cells = []
        for b in names:
            if a == b or (a, b) not in values:
                cells.append("<td>—</td>")
            else:
                cells.append(f'<td data-a="{escape(a)}" data-b="{escape(b)}"{heat(values[a, b])}>{number(values[a, b])}</td>')
        rows.append(f'<tr><th class="name">{escape(a)}</th>' + "".join(cells) + "</tr>")
    return [f'<table class="pairs" data-measure="{measure}">', *rows, "</table>"]


def confusion_matrix(report: dict) -> list[str]:
    counts = {}
    for c in report["confusion"]:
        x, y = c["labels"]
        counts[x, y] = counts[y, x] = c["count"]
    labels = sorted({label for pair in counts for label in pair}, key=[x["label"] for x in report["labels"]].index)
    if not labels:
        return ["<p>No two annotators gave one place different labels.</p>"]
    top = max(counts.values())
    rows = ["<tr><th></th>" + "".join(f'<th class="name">{escape(n)}</th>' for n in labels) + "</tr>"]
    for x in labels:
        cells = "".join(f'<td data-labels="{escape(x)}|{escape(y)}"{heat(counts[x, y] / top)}>{counts[x, y]}</td>' if (x, y) in counts else "<td></td>"
                        for y in labels)
        rows.append(f'<tr><th class="name">{escape(x)}</th>{cells}</tr>')
    return ['<table class="confusion">', *rows, "</table>"]


def label_bars(report: dict) -> list[str]:
    rows = ["<tr><th class=\"name\">label</th><th>spans</th><th>span F1</th><th></th></tr>"]
    for x in report["labels"]:
        if not x["spans"]:
            continue
        width = 0 if x["span_f1"] is None else round(240 * max(0.0, x["span_f1"]))
        rows.append(f'<tr data-label="{escape(x["label"])}"><td class="name">{escape(x["label"])}</td><td>{x["spans"]}</td>'
                    f'<td class="f1">{number(x["span_f1"])}</td><td style="text-align: left"><span class="bar" style="width: {width}px"></span></td></tr>')
    return ['<table class="labels">', *rows, "</table>"]


def highlighted(item: Disagreement) -> str:
    """The sentence with each annotator's span marked: `a` the pair's first, `b` its second, `ab` where both."""
    marks = [(s.start - item.sentence_start, s.end - item.sentence_start, "a" if who == item.a else "b") for who, s in item.spans]
    cuts = sorted({0, len(item.sentence), *(x for start, end, _ in marks for x in (start, end))})
    out = []
    for start, end in zip(cuts, cuts[1:]):
        who = "".join(sorted({side for s, e, side in marks if s <= start and end <= e}))
        piece = escape(item.sentence[start:end])
        out.append(f'<mark class="{who}">{piece}</mark>' if who else piece)
    return "".join(out)


def disagreement_items(disagreements: list[Disagreement]) -> list[str]:
    if not disagreements:
        return ["<p>None.</p>"]
    items = []
    for d in disagreements:
        said = "; ".join(f"{escape(who)}: {escape(s.label)} {s.start}–{s.end}" for who, s in d.spans)
        items.append(f'<li class="disagreement" data-kind="{d.kind}"><span class="meta">{escape(d.article_id)} · {d.part} · {d.kind} · '
                     f'<span class="name">{escape(d.a)}</span> / <span class="name">{escape(d.b)}</span> · {said}</span><br>'
                     f'<span class="sentence">{highlighted(d)}</span></li>')
    return ['<ol class="disagreements">', *items, "</ol>"]


def render_html(report: dict, disagreements: list[Disagreement], title: str) -> str:
    kinds = ['<table class="kinds"><tr><th class="name">kind</th><th>count</th><th class="name">meaning</th></tr>',
             *(f'<tr data-kind="{k}"><td class="name">{k}</td><td>{report["disagreements"][k]}</td><td class="name">{m}</td></tr>' for k, m in KINDS), "</table>"]
    topics = ['<table class="topics"><tr><th class="name">topic</th><th>alpha</th></tr>',
              f'<tr data-topic=""><td class="name">(all)</td><td>{number(report["topics"]["alpha"])}</td></tr>',
              *(f'<tr data-topic="{escape(t["topic"])}"><td class="name">{escape(t["topic"])}</td><td>{number(t["alpha"])}</td></tr>'
                for t in report["topics"]["labels"]), "</table>"]
    gold = ['<table class="gold"><tr><th class="name">annotator</th><th>articles</th><th>precision</th><th>recall</th><th>F1</th></tr>',
            *(f'<tr data-annotator="{escape(g["annotator"])}"><td class="name">{escape(g["annotator"])}</td><td>{g["articles"]}</td>'
              f'<td>{number(g["precision"])}</td><td>{number(g["recall"])}</td><td>{number(g["f1"])}</td></tr>' for g in report["against_gold"]),
            "</table>"] if report["against_gold"] else ["<p>No article has gold that a reviewer or a ground-truth annotation settled.</p>"]
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p>Articles with two or more annotators: <strong id="articles">{report["articles"]}</strong>. '
        "Annotators appear as their pseudonyms.</p>",
        "<h2>Annotator pairs</h2>",
        *(line for measure, heading in PAIR_MEASURES for line in [f"<h3>{heading}</h3>", *pair_matrix(report, measure)]),
        "<h2>Kinds of disagreement</h2>", *kinds,
        "<h2>Label confusion</h2>", "<p>Spans at the same place with different labels, counted per pair of annotators.</p>", *confusion_matrix(report),
        "<h2>Agreement per label</h2>", *label_bars(report),
        "<h2>Relations and topics</h2>",
        f'<p>Relations, exact (head, tail, label) F1: <span id="relations">{number(report["relations"]["span_f1"])}</span></p>', *topics,
        "<h2>Against gold</h2>", *gold,
        "<h2>Every disagreement in its sentence</h2>",
        '<p><mark class="a">first annotator of the pair</mark> <mark class="b">second</mark> <mark class="ab">both</mark></p>',
        *disagreement_items(disagreements),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
