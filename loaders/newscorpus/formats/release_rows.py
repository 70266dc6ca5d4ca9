"""An exported release's articles, split by split: each `documents` row with its `ner` rows.

The label names come from the features `datasets` stored in the Parquet files, so an export needs
no taxonomy file: the release is the whole input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..problems import CommandError
from ..release.manifest import config_batches, config_features, read_manifest, sha256_of

SPLIT_ORDER = ("train", "validation", "test")
SHARD = re.compile(r"(?P<split>[a-z]+)-\d{5}-of-\d{5}\.parquet")
EXPORTED_CONFIGS = ("documents", "ner")


@dataclass(frozen=True)
class ReleaseLabels:
    """The names behind the release's ClassLabel ids."""

    entities: list[str]
    topics: list[str]
    relations: list[str]
    tags: list[str]  # the `ner` config's IOB2 tags


@dataclass
class NerRow:
    tokens: list[str]
    token_start: list[int]
    token_end: list[int]
    tags: list[str]


def tag_runs(tags: list[str]) -> list[tuple[int, int, str]]:
    """(first token, end token, label) of every entity in IOB2 tags; an I- that continues nothing starts one, as readers take it."""
    runs: list[list] = []
    previous = "O"
    for index, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and previous != "O" and previous[2:] == label:
            runs[-1][1] = index + 1
        elif prefix in ("B", "I"):
            runs.append([index, index + 1, label])
        previous = tag
    return [tuple(run) for run in runs]


@dataclass
class ExportedArticle:
    """A `documents` row with its labels as names, and its `ner` rows by part ("title", "text")."""

    id: str
    title: str
    text: str
    entities: list[dict]  # {start, end, label (a name), text[, kb_id]}
    title_entities: list[dict]
    topics: list[str]
    relations: list[tuple[int, int, str]]  # head, tail (indexes into entities), label
    ner: dict[str, list[NerRow]] = field(default_factory=lambda: {"title": [], "text": []})

    def part_text(self, part: str) -> str:
        return self.title if part == "title" else self.text

    def part_entities(self, part: str) -> list[dict]:
        return self.title_entities if part == "title" else self.entities


def checked_release(release_dir: Path) -> list[str]:
    """The splits of a release whose `documents` and `ner` shards are exactly those its manifest lists, byte for byte."""
    manifest = read_manifest(release_dir)
    listed = {f["path"]: f["sha256"] for f in manifest["files"] if f["path"].split("/")[0] in EXPORTED_CONFIGS}
    present = {f"{config}/{p.name}" for config in EXPORTED_CONFIGS for p in (release_dir / config).glob("*.parquet")}
    for path in sorted(listed.keys() | present):
        file = release_dir / path
        if path not in listed or path not in present or sha256_of(file) != listed[path]:
            raise CommandError(f"{file} is not the file its release's manifest.json lists ({'not listed' if path not in listed else 'missing or changed'}): "
                               f"`newscorpus verify {release_dir}` shows what differs")
    splits = {match["split"] for path in listed if path.startswith("documents/") and (match := SHARD.fullmatch(path.split("/")[1]))}
    order = {name: i for i, name in enumerate(SPLIT_ORDER)}
    return sorted(splits, key=lambda split: (order.get(split, len(order)), split))


def release_labels(release_dir: Path) -> ReleaseLabels:
    documents, ner = config_features(release_dir, "documents"), config_features(release_dir, "ner")
    if not documents or not ner:
        raise CommandError(f"{release_dir} has no annotated article: there is nothing to export")
    relations = documents["relations"].feature["label"].names if "relations" in documents else []
    return ReleaseLabels(documents["entities"].feature["label"].names, documents["topics"].feature.names, relations,
                         ner["ner_tags"].feature.names)


def split_articles(release_dir: Path, split: str, labels: ReleaseLabels) -> Iterator[ExportedArticle]:
    """A split's articles in the release's order; `ner` holds each article's rows right after the previous article's."""
    ner_rows = iter_ner_rows(release_dir, split, labels)
    pending = next(ner_rows, None)
    for row in iter_rows(release_dir, "documents", split):
        article = exported_article(row, labels)
        while pending is not None and pending[0] == article.id:
            article.ner[pending[1]].append(pending[2])
            pending = next(ner_rows, None)
        yield article
    if pending is not None:
        raise CommandError(f"{release_dir}: the `ner` row of article {pending[0]!r} in split {split!r} has no `documents` row before it")


def iter_rows(release_dir: Path, config: str, split: str) -> Iterator[dict]:
    for batch in config_batches(release_dir, config, None, f"{split}-*.parquet"):
        yield from batch.to_pylist()


def iter_ner_rows(release_dir: Path, split: str, labels: ReleaseLabels) -> Iterator[tuple[str, str, NerRow]]:
    for row in iter_rows(release_dir, "ner", split):
        yield row["article_id"], row["part"], NerRow(row["tokens"], row["token_start"], row["token_end"], [labels.tags[t] for t in row["ner_tags"]])


def exported_article(row: dict, labels: ReleaseLabels) -> ExportedArticle:
    def named(spans: list[dict]) -> list[dict]:
        return [{**span, "label": labels.entities[span["label"]]} for span in spans]

    return ExportedArticle(row["id"], row["title"], row["text"], named(row["entities"]), named(row["title_entities"]),
                           [labels.topics[t] for t in row["topics"]],
                           [(r["head"], r["tail"], labels.relations[r["label"]]) for r in row.get("relations") or []])
