"""The `agreement` command's work: measure a release or the working tree, render the report."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

from ..layout import Layout
from ..release.manifest import read_manifest
from ..workers import POOL_MIN_ARTICLES, worker_pool
from .measures import AgreementMeasures, AnnotatedArticle, LabelNames, measure
from .reading import release_articles, working_tree_articles
from .render import render_html, render_json, render_text

FORMATS = ("text", "json", "html")
CHUNK_ARTICLES = 1000  # articles a worker measures at once
IN_FLIGHT = 4  # chunks sent to the workers and not yet merged
REPORT_FILE = "agreement.json"  # the JSON report, in every release whose articles had two or more annotators


def measured(articles: Iterable[AnnotatedArticle], labels: LabelNames, keep_disagreements: bool, annotations: int) -> AgreementMeasures:
    """Chunks of articles measured by the workers while this process reads the next ones, merged in
    order (every measure is a sum); in this process alone below POOL_MIN_ARTICLES annotations."""
    total = AgreementMeasures(labels, keep_disagreements)
    size = min(2, os.cpu_count() or 1) if annotations >= POOL_MIN_ARTICLES else 1
    with worker_pool(size, ("newscorpus.agreement.measures",)) as pool:
        waiting: deque = deque()
        articles = iter(articles)
        while chunk := list(islice(articles, CHUNK_ARTICLES)):
            waiting.append(pool.submit(measure, chunk, labels, keep_disagreements))
            if len(waiting) > IN_FLIGHT:  # a bounded number of chunks is held at once
                total.merge(waiting.popleft().result())
        while waiting:
            total.merge(waiting.popleft().result())
    return total


def release_agreement(release_dir: Path, keep_disagreements: bool = False) -> AgreementMeasures:
    """A release folder someone names: a folder without a sound manifest is refused."""
    manifest = read_manifest(release_dir)
    labels, articles = release_articles(release_dir)
    rows = sum(f.get("rows") or 0 for f in manifest["files"] if f["path"].startswith("annotations/"))
    return measured(articles, labels, keep_disagreements, rows)


def previous_agreement(release_dir: Path) -> dict:
    """An earlier release's report: the one it holds, else measured on its files (releases made before it held one)."""
    stored = release_dir / REPORT_FILE
    return json.loads(stored.read_text(encoding="utf-8")) if stored.is_file() else release_agreement(release_dir).report()


def working_tree_agreement(layout: Layout, keep_disagreements: bool = False) -> AgreementMeasures:
    labels, annotations, articles = working_tree_articles(layout)
    return measured(articles, labels, keep_disagreements, annotations)


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
