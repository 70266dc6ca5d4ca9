"""`studio pull`: the project's export into annotations/, written only after it validates."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import orjson

from ..exports import iter_current_annotations
from ..files import write_atomically
from ..layout import Layout
from ..problems import CommandError, InputError, Report
from ..taxonomy import load_taxonomy
from ..validate import check_corpus
from .client import Studio


def project_folder(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


def pull(layout: Layout, project_title: str, studio: Studio | None = None, now: datetime | None = None) -> Path | None:
    """Export the project into annotations/<project>/<UTC time>.json after it validates; None if unchanged."""
    studio = studio or Studio()
    project = studio.find_project(project_title)
    if project is None:
        raise CommandError(f"no project titled {project_title!r} on {studio.url}; run `newscorpus studio push` first")
    raw = studio.export(project.id)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = layout.annotations_dir / project_folder(project_title) / f"{stamp}.json"
    previous = [p for p in layout.exports() if p.parent == target.parent]
    if previous and orjson.loads(previous[-1].read_bytes()) == orjson.loads(raw):
        return None
    staged = target.with_name(f".{target.name}.part")
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(staged, raw)
        report = Report()
        digests = check_corpus(layout, report)
        for _ in iter_current_annotations(layout, load_taxonomy(layout), digests, report, exports=[staged]):
            pass
        if not report.valid:
            raise InputError(report, "the export was not written: it does not validate")
        if target.exists():
            raise CommandError(f"{layout.relative(target)} exists; pull again in a second")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target
