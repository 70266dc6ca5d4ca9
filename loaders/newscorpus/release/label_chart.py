"""The picture of the label distribution that the dataset card shows, with agreement per label.

A release is byte-identical on rebuild, so the PNG is drawn with matplotlib's own default style
(never the machine's matplotlibrc), its bundled DejaVu font, and no `Software` text in the file;
the bytes then depend only on the matplotlib and Pillow versions, which the manifest records.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

CHART_FILE = "label_distribution.png"
BAR_INCHES = 0.26  # height of one label's row


@dataclass
class LabelPanel:
    """One label set: how often each label occurs and, when several annotators voted, their agreement on it."""

    title: str
    counts: dict[str, int]  # in taxonomy order
    agreement_title: str
    agreement: dict[str, float | None]  # empty when no article had two annotators


def label_chart_png(panels: list[LabelPanel]) -> bytes:
    """Horizontal bars of counts per label, and beside them agreement per label where there is some."""
    # Imported here, not above: build workers import this module and must start fast (a killed build's workers exit at start).
    import matplotlib.style
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = [p for p in panels if p.counts]
    with_agreement = any(v is not None for p in panels for v in p.agreement.values())
    with matplotlib.style.context("default"):
        heights = [len(p.counts) for p in panels]
        figure = Figure(figsize=(11 if with_agreement else 7.5, 0.9 * len(panels) + BAR_INCHES * sum(heights)), layout="constrained")
        axes = figure.subplots(len(panels), 2 if with_agreement else 1, squeeze=False, sharey="row",
                               gridspec_kw={"height_ratios": heights, **({"width_ratios": [3, 2]} if with_agreement else {})})
        for row, panel in zip(axes, panels):
            names = list(panel.counts)
            count_axis = row[0]
            bars = count_axis.barh(range(len(names)), list(panel.counts.values()), color="#4c72b0")
            count_axis.bar_label(bars, padding=3, fontsize=8)
            count_axis.set_yticks(range(len(names)), names, fontsize=9)
            count_axis.set_ylim(len(names) - 0.5, -0.5)  # the taxonomy's first label on top
            count_axis.set_xlim(0, max(1, *panel.counts.values()) * 1.12)
            count_axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            count_axis.set_title(panel.title, fontsize=10, loc="left")
            if with_agreement:
                draw_agreement(row[1], panel, names)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def draw_agreement(axis, panel: LabelPanel, names: list[str]) -> None:
    shown = [(i, panel.agreement[name]) for i, name in enumerate(names) if panel.agreement.get(name) is not None]
    bars = axis.barh([i for i, _ in shown], [v for _, v in shown], color="#dd8452")
    axis.bar_label(bars, fmt="%.2f", padding=3, fontsize=8)
    axis.set_xlim(min([0.0, *(v for _, v in shown)]), 1.15)
    axis.axvline(0, color="black", linewidth=0.6)
    axis.tick_params(axis="y", left=False, labelleft=False)
    axis.set_title(panel.agreement_title, fontsize=10, loc="left")
