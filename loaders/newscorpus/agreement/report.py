"""The `agreement` command's work: measure a release or the working tree, render the report."""

from __future__ import annotations

import json
from pathlib import Path

from ..layout import Layout
from ..release.manifest import read_manifest
from .measures import AgreementMeasures, measure
from .reading import release_articles, working_tree_articles
from .render import render_html, render_json, render_text

FORMATS = ("text", "json", "html")
REPORT_FILE = "agreement.json"  # the JSON report, in every release whose articles had two or more annotators


def release_agreement(release_dir: Path, keep_disagreements: bool = False) -> AgreementMeasures:
    """A release folder someone names: a folder without a sound manifest is refused."""
    read_manifest(release_dir)
    labels, articles = release_articles(release_dir)
    return measure(articles, labels, keep_disagreements)


def previous_agreement(release_dir: Path) -> dict:
    """An earlier release's report: the one it holds, else measured on its files (releases made before it held one)."""
    stored = release_dir / REPORT_FILE
    return json.loads(stored.read_text(encoding="utf-8")) if stored.is_file() else release_agreement(release_dir).report()


def working_tree_agreement(layout: Layout, keep_disagreements: bool = False) -> AgreementMeasures:
    labels, articles = working_tree_articles(layout)
    return measure(articles, labels, keep_disagreements)


def agreement_report(layout: Layout, release_dir: Path | None, fmt: str) -> str:
    """The report in `fmt`; the HTML page also lists every disagreement, which the others leave out."""
    keep = fmt == "html"
    measures = release_agreement(release_dir, keep) if release_dir is not None else working_tree_agreement(layout, keep)
    report = measures.report()
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        where = release_dir.name if release_dir is not None else "the working tree"
        return render_html(report, measures.disagreements, f"Annotator agreement: {where}")
    return render_text(report)
