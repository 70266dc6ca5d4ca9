"""`newscorpus export`: one file set per split of a release, in a format another stack reads.

The files are written into a staging folder beside DIR and renamed into place when complete (into
DIR itself when it exists, so that `--out .` fills the current folder), so an export that fails
(a full disk: one `cannot write` message, exit 1) leaves nothing; a DIR that holds anything is refused, never overwritten.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..files import writing
from ..problems import CommandError
from . import brat, conll, spacy
from .release_rows import ExportedArticle, ReleaseLabels, checked_release, release_labels, split_articles

FORMATS = ("spacy", "conll", "brat")


@dataclass
class ExportSummary:
    out_dir: Path
    articles: dict[str, int] = field(default_factory=dict)  # split -> articles
    files: int = 0
    unheld: Counter = field(default_factory=Counter)  # what the format cannot hold, by kind

    def count(self, split: str, articles: Iterable[ExportedArticle]) -> Iterator[ExportedArticle]:
        self.articles[split] = 0
        for article in articles:
            self.articles[split] += 1
            yield article


def export_release(release_dir: Path, fmt: str, out_dir: Path) -> ExportSummary:
    if fmt not in FORMATS:
        raise CommandError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out_dir = out_dir.resolve()  # `.` and `..` have no name to stage beside
    if out_dir.is_relative_to(release_dir.resolve()):
        raise CommandError(f"{out_dir} is inside the release {release_dir}, which never changes: export somewhere else")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CommandError(f"{out_dir} is not an empty folder: an export goes into a new or empty one and never overwrites")
    splits = checked_release(release_dir)
    labels = release_labels(release_dir)
    if fmt == "spacy":
        spacy.require_spacy()
    summary = ExportSummary(out_dir)
    with writing(out_dir, f"the {fmt} export"):
        write_export(release_dir, fmt, out_dir, splits, labels, summary)
    summary.unheld = Counter({kind: n for kind, n in summary.unheld.items() if n})
    return summary


def write_export(release_dir: Path, fmt: str, out_dir: Path, splits: list[str], labels: ReleaseLabels, summary: ExportSummary) -> None:
    staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a killed export whose process id this one now has
    try:
        staging.mkdir(parents=True)
        for split in splits:
            articles = summary.count(split, split_articles(release_dir, split, labels))
            if fmt == "spacy":
                (staging / f"{split}.spacy").write_bytes(spacy.docbin_bytes(articles, labels, summary.unheld))
                summary.files += 1
            elif fmt == "conll":
                with (staging / f"{split}.conll").open("w", encoding="utf-8", newline="\n") as handle:
                    handle.writelines(conll.conll_lines(articles, summary.unheld))
                summary.files += 1
            else:
                (staging / split).mkdir()
                for article in articles:
                    txt, ann = brat.brat_document(article, labels, summary.unheld)
                    (staging / split / f"{article.id}.txt").write_text(txt, encoding="utf-8", newline="\n")
                    (staging / split / f"{article.id}.ann").write_text(ann, encoding="utf-8", newline="\n")
                    summary.files += 2
        if fmt == "brat":  # brat looks for its configuration in a document's folder and the folders above it
            (staging / "annotation.conf").write_text(brat.annotation_conf(labels), encoding="utf-8", newline="\n")
            (staging / "visual.conf").write_text(brat.visual_conf(labels), encoding="utf-8", newline="\n")
            summary.files += 2
        if out_dir.exists():
            move_into(staging, out_dir)
        else:
            os.rename(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def move_into(staging: Path, out_dir: Path) -> None:
    """Each staged entry renamed into the empty folder the user named, which stays the same folder:
    a shell standing in it (`--out .`) sees the files. A rename that fails takes the moved ones back."""
    moved = []
    try:
        for entry in sorted(staging.iterdir()):
            os.rename(entry, out_dir / entry.name)
            moved.append(entry.name)
    except OSError:
        for name in moved:
            os.rename(out_dir / name, staging / name)
        raise
