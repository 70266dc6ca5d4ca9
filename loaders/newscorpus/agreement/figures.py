"""The card's pictures of agreement: the annotator-pair matrix and the label confusion matrix.

Drawn as release/label_chart.py draws the label chart, so the bytes depend only on the matplotlib
and Pillow versions the manifest records: matplotlib's default style (never the machine's
matplotlibrc), its bundled font, no `Software` text in the file.
"""

from __future__ import annotations

import io

import numpy as np

PAIRS_FILE = "agreement_pairs.png"
CONFUSION_FILE = "label_confusion.png"
PAIR_PANELS = (("span_f1", "Exact span F1"), ("overlap_f1", "Overlap span F1"), ("token_kappa", "Token kappa"))
CELL_INCHES = 0.55


def png_of(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def draw_matrix(axis, values: np.ndarray, names: list[str], title: str, text_of, vmin: float, vmax: float) -> None:
    shown = np.ma.masked_invalid(values)
    axis.imshow(shown, cmap="Greens", vmin=vmin, vmax=vmax)
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(len(names)), names, fontsize=8)
    axis.set_title(title, fontsize=10, loc="left")
    for i in range(len(names)):
        for j in range(len(names)):
            if not np.isnan(values[i, j]):
                axis.text(j, i, text_of(values[i, j]), ha="center", va="center", fontsize=8,
                          color="white" if (values[i, j] - vmin) > 0.6 * (vmax - vmin) else "black")


def pair_matrix_png(report: dict) -> bytes:
    """One annotator x annotator heatmap per pair measure; a pair that shares no article is blank."""
    import matplotlib.style
    from matplotlib.figure import Figure

    names = [a["annotator"] for a in report["annotators"]]
    index = {name: i for i, name in enumerate(names)}
    side = max(2.5, CELL_INCHES * len(names) + 1.6)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(3 * side, side + 0.4), layout="constrained")
        for axis, (measure, title) in zip(figure.subplots(1, len(PAIR_PANELS), squeeze=False)[0], PAIR_PANELS):
            values = np.full((len(names), len(names)), np.nan)
            for p in report["pairs"]:
                if p[measure] is not None:
                    values[index[p["a"]], index[p["b"]]] = values[index[p["b"]], index[p["a"]]] = p[measure]
            draw_matrix(axis, values, names, title, lambda v: f"{v:.2f}", 0.0, 1.0)
        return png_of(figure)


def confusion_png(report: dict) -> bytes:
    """Label disagreements by pair of labels, each count shown on both sides of the diagonal."""
    import matplotlib.style
    from matplotlib.figure import Figure

    order = [x["label"] for x in report["labels"]]
    names = sorted({label for c in report["confusion"] for label in c["labels"]}, key=order.index)
    index = {name: i for i, name in enumerate(names)}
    values = np.full((len(names), len(names)), np.nan)
    for c in report["confusion"]:
        x, y = (index[label] for label in c["labels"])
        values[x, y] = values[y, x] = c["count"]
    side = max(3.0, CELL_INCHES * len(names) + 1.8)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(side, side), layout="constrained")
        draw_matrix(figure.subplots(), values, names, "Same place, other label", lambda v: f"{int(v)}", 0.0, float(np.nanmax(values)))
        return png_of(figure)
