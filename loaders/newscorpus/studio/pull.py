"""`studio pull`: the project's export into annotations/, written only after it validates.

The one change made to the export before it is written: annotators' emails and names are removed,
each user kept as its Label Studio id (identities.py)."""

from __future__ import annotations

import filecmp
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import orjson

from .. import progress
from ..exports.supersession import iter_current_annotations
from ..files import write_atomically, writing
from ..identities import cleaned_export
from ..layout import Layout
from ..problems import CommandError, InputError, Report
from ..settings import check_release_settings
from ..taxonomy import load_taxonomy
from ..validate import carries_stale_tasks, check_corpus
from .client import Studio
from .review import review_project_title


def project_folder(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


def same_export(previous: Path, new: Path) -> bool:
    """Equal bytes, or the same JSON (compared parsed only when the bytes differ). Asked only once
    `new` has validated; an earlier export that is not a regular file or not JSON is not the same."""
    if not previous.is_file():
        return False
    try:
        return filecmp.cmp(previous, new, shallow=False) or orjson.loads(previous.read_bytes()) == orjson.loads(new.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False


def pull(layout: Layout, project_title: str, studio: Studio | None = None, now: datetime | None = None) -> dict[str, Path | None]:
    """The project and its review project (if `studio review` made one), each exported into
    annotations/<project>/<UTC time>.json after it validates; title -> path, None if unchanged."""
    studio = studio or Studio()
    project = studio.find_project(project_title)
    if project is None:
        raise CommandError(f"no project titled {project_title!r} on {studio.url}; run `newscorpus studio push` first")
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    pulled = {project_title: pull_project(layout, studio, project, stamp)}
    review = studio.find_project(review_project_title(project_title))
    if review is not None:
        pulled[review.title] = pull_project(layout, studio, review, stamp)
    return pulled


def pull_project(layout: Layout, studio: Studio, project, stamp: str) -> Path | None:
    target = layout.annotations_dir / project_folder(project.title) / f"{stamp}.json"
    previous = [p for p in layout.exports() if p.parent == target.parent]
    staged = target.with_name(f".{target.name}.part")
    with writing(staged.parent, "the export"):
        staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        with progress.stage("exporting", unit="bytes"):
            studio.export_to(project.id, staged)
        cleaned = cleaned_export(staged, layout.relative(target))
        if cleaned is not None:
            with writing(staged.parent, "the export"):
                write_atomically(staged, cleaned)
        report = Report()
        with progress.stage("checking articles", total=progress.count_lines(layout.shards())):
            digests = check_corpus(layout, report)
        carry = carries_stale_tasks(check_release_settings(layout)[0])
        with progress.stage("checking annotations", total=progress.total_bytes([staged]), unit="tasks"):
            for _ in iter_current_annotations(layout, load_taxonomy(layout), digests, report, exports=[staged], carry=carry):
                pass
        if not report.valid:
            raise InputError(report, "the export was not written: it does not validate")
        if previous and same_export(previous[-1], staged):
            return None
        if target.exists():
            raise CommandError(f"{layout.relative(target)} exists; pull again in a second")
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target
