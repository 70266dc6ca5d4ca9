"""Build: the Hugging Face `datasets` builder that turns the corpus and resolved labels into tables.

Shaped like datasets' own Parquet loader: one BuilderConfig per release config, features derived
from the taxonomy in one place (`release_features`), and Arrow tables yielded in batches.
The NER conversion keeps the outermost span where spans nest or cross, and counts every span it
drops, by reason, for the dataset card.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from itertools import count
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa
from datasets import ClassLabel, Features, List, Value

from . import progress
from .annotators import Pseudonyms
from .corpus import iter_shard
from .resolve import ResolvedStore
from .split import SPLITS
from .taxonomy import Taxonomy

CONFIG_NAMES = ("documents", "ner", "articles", "annotations")
# OntoNotes-style: hyphens and a possessive 's are tokens of their own, so "anti-Taliban" and
# "Taliban's" hold a whole token "Taliban" for an entity span. Every non-space character is in a token.
TOKEN = re.compile(r"['’]s\b|\w+|[^\w\s]")
PARAGRAPH = re.compile(r"[^\n]+")
SPAN_KEY = itemgetter("start", "end", "label")


def release_features(config: str, taxonomy: Taxonomy) -> Features:
    """The typed schema of each config; ClassLabel names come from the taxonomy only."""
    span = List({"start": Value("int32"), "end": Value("int32"), "label": ClassLabel(names=taxonomy.entity_names), "text": Value("string")})
    topics = List(ClassLabel(names=taxonomy.topic_names))
    # head and tail index that row's `entities`; a taxonomy without relations has no such column
    relations = {"relations": List({"head": Value("int32"), "tail": Value("int32"), "label": ClassLabel(names=taxonomy.relation_names)})} \
        if taxonomy.relation_labels else {}
    article = {
        "id": Value("string"), "title": Value("string"), "text": Value("string"), "source": Value("string"),
        "language": Value("string"), "url": Value("string"), "published": Value("string"),
    }
    if config == "documents":
        return Features({**article, "entities": span, "title_entities": span, "topics": topics,
                         "annotators": Value("int32"), "resolution": Value("string"), "entity_agreement": Value("float32"), **relations,
                         "carried_forward": Value("bool")})
    if config == "ner":
        return Features({"id": Value("string"), "article_id": Value("string"), "part": Value("string"), "paragraph": Value("int32"),
                         "tokens": List(Value("string")), "token_start": List(Value("int32")), "token_end": List(Value("int32")),
                         "ner_tags": List(ClassLabel(names=taxonomy.bio_names))})
    if config == "articles":
        return Features({**article, "authors": List(Value("string")), "license": Value("string"), "annotated": Value("bool")})
    if config == "annotations":
        return Features({"article_id": Value("string"), "task_id": Value("int64"), "annotation_id": Value("int64"),
                         "annotator": Value("string"), "ground_truth": Value("bool"), "was_cancelled": Value("bool"),
                         "entities": span, "title_entities": span, "topics": topics, "export": Value("string"), **relations,
                         "review": Value("bool"), "parent_prediction": {"id": Value("int64"), "model_version": Value("string")},
                         "carried_forward": Value("bool")})
    raise ValueError(f"unknown config {config!r}")


def token_offsets(text: str, offset: int) -> tuple[list[str], list[int], list[int]]:
    """Tokens and their code-point offsets (the NER hot loop): one pass of the regex, its matches
    read three times, measured faster than findall + split + a running sum of lengths."""
    matches = list(TOKEN.finditer(text))
    return [m.group() for m in matches], [m.start() + offset for m in matches], [m.end() + offset for m in matches]


def row_groups(table: pa.Table, max_bytes: int) -> Iterator[pa.Table]:
    """The table in slices of about `max_bytes`: each becomes its own row group(s), and a shard is
    closed only between them, so this bounds both for the Hub viewer. A slice has at least two
    rows: datasets buffers a one-row table into the next row group without counting its bytes."""
    if table.num_rows <= 2:
        yield table
        return
    rows = max(2, table.num_rows * max_bytes // max(table.nbytes, 1))
    starts = list(range(0, table.num_rows, rows))
    if table.num_rows - starts[-1] == 1:
        starts.pop()
    for start, end in zip(starts, [*starts[1:], table.num_rows]):
        yield table.slice(start, end - start)


@dataclass
class NerConversion:
    """BIO tags for one text, outermost span first; every span is counted as kept or dropped by reason."""

    counts: Counter = field(default_factory=Counter)

    def rows(self, article_id: str, part: str, text: str, spans: list[dict], tag_ids: dict[str, int]) -> Iterator[dict]:
        paragraphs = [(m.start(), m.end()) for m in PARAGRAPH.finditer(text)] if part == "text" else [(0, len(text))]
        tokenized = [token_offsets(text[p0:p1], p0) for p0, p1 in paragraphs]
        tags = [[0] * len(tokens) for tokens, _, _ in tokenized]
        for span in self.outermost(spans):
            self.counts["ner_spans"] += 1
            p = bisect_left(paragraphs, (span["start"] + 1, -1)) - 1
            if p < 0 or span["end"] > paragraphs[p][1]:
                self.counts["ner_dropped_crosses_paragraph"] += 1
                continue
            _, starts, ends = tokenized[p]
            first = bisect_left(starts, span["start"])
            last = bisect_right(ends, span["end"])  # tokens first..last-1 lie wholly inside the span
            if last <= first:
                self.counts["ner_dropped_no_whole_token"] += 1
                continue
            self.counts["ner_spans_kept"] += 1
            if starts[first] != span["start"] or ends[last - 1] != span["end"]:
                self.counts["ner_spans_trimmed_to_tokens"] += 1
            label = span["label"]
            tags[p][first] = tag_ids[f"B-{label}"]
            tags[p][first + 1 : last] = [tag_ids[f"I-{label}"]] * (last - first - 1)
        for p, (tokens, starts, ends) in enumerate(tokenized):
            if tokens:
                yield {"id": f"{article_id}/{part}/{p}", "article_id": article_id, "part": part, "paragraph": p,
                       "tokens": tokens, "token_start": starts, "token_end": ends, "ner_tags": tags[p]}

    def outermost(self, spans: list[dict]) -> Iterator[dict]:
        """Longest-first at each start; a span inside a kept one is nested, one that overlaps it crosses."""
        kept_end = -1
        for span in sorted(spans, key=lambda s: (s["start"], -s["end"], s["label"])):
            if span["start"] < kept_end:
                self.counts["ner_spans"] += 1
                reason = "nested" if span["end"] <= kept_end else "crossing"
                self.counts[f"ner_dropped_{reason}"] += 1
                continue
            kept_end = span["end"]
            yield span


@dataclass
class NewsCorpusConfig(datasets.BuilderConfig):
    batch_size: int = 1000


@dataclass
class BuildPlan:
    """What one build reads: each split's articles (JSONL, corpus order) and the resolved labels."""

    taxonomy: Taxonomy
    store_path: Path
    split_files: dict[str, Path]
    pseudonyms: Pseudonyms  # the only annotator names a release carries
    description: str = ""
    license: str = ""
    max_shard_bytes: int = 500_000_000
    max_row_group_bytes: int = 100_000_000

    @classmethod
    def from_release_settings(cls, settings: dict, taxonomy: Taxonomy, store_path: Path, split_files: dict[str, Path],
                              pseudonyms: Pseudonyms) -> "BuildPlan":
        return cls(taxonomy, store_path, split_files, pseudonyms, settings["description"], settings["license"],
                   int(settings.get("max_shard_mb", 500) * 1e6), int(settings.get("max_row_group_mb", 100) * 1e6))


class NewsCorpus(datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = NewsCorpusConfig
    BUILDER_CONFIGS = [NewsCorpusConfig(name=name) for name in CONFIG_NAMES]
    DEFAULT_CONFIG_NAME = "documents"

    def __init__(self, *args, plan: BuildPlan, **kwargs):
        self.plan = plan
        self.stats: Counter = Counter()
        self.entity_ids = {n: i for i, n in enumerate(plan.taxonomy.entity_names)}
        self.topic_ids = {n: i for i, n in enumerate(plan.taxonomy.topic_names)}
        self.tag_ids = {n: i for i, n in enumerate(plan.taxonomy.bio_names)}
        self.relation_ids = {n: i for i, n in enumerate(plan.taxonomy.relation_names)}
        super().__init__(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.plan.description, license=self.plan.license,
                                    features=release_features(self.config.name, self.plan.taxonomy))

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=name, gen_kwargs={"articles": self.plan.split_files[name]})
                for name in SPLITS if name in self.plan.split_files]

    def _generate_tables(self, articles: Path):
        schema = self.info.features.arrow_schema
        store = ResolvedStore(self.plan.store_path)
        rows = getattr(self, f"_{self.config.name}_rows")
        batch: list[dict] = []
        keys = count()
        try:
            for _, record, _ in iter_shard(articles, articles.name):
                batch.extend(rows(record, store.get(record["id"])))
                progress.advance()
                if len(batch) >= self.config.batch_size:
                    yield from self._keyed_row_groups(batch, schema, keys)
                    batch = []
            if batch:
                yield from self._keyed_row_groups(batch, schema, keys)
        finally:
            store.close()

    def _keyed_row_groups(self, batch: list[dict], schema: pa.Schema, keys: Iterator[int]):
        for table in row_groups(pa.Table.from_pylist(batch, schema=schema), self.plan.max_row_group_bytes):
            yield datasets.builder.Key(0, next(keys)), table

    def _spans(self, spans: list[dict]) -> list[dict]:
        return [{"start": s["start"], "end": s["end"], "label": self.entity_ids[s["label"]], "text": s["text"]} for s in spans]

    def _topics(self, topics: list[str]) -> list[int]:
        return sorted(self.topic_ids[t] for t in topics)

    def _relations(self, entities: list[dict], relations: list[dict]) -> dict:
        """The `relations` column, head and tail as indexes into the row's `entities` as listed."""
        if not self.relation_ids:
            return {}
        index: dict[tuple, int] = {}
        for i, span in enumerate(entities):
            index.setdefault(SPAN_KEY(span), i)
        return {"relations": [{"head": index[SPAN_KEY(r["head"])], "tail": index[SPAN_KEY(r["tail"])], "label": self.relation_ids[r["label"]]}
                              for r in relations]}

    @staticmethod
    def _article_fields(record: dict) -> dict:
        return {key: record.get(key) for key in ("id", "title", "text", "source", "language", "url", "published")}

    def _documents_rows(self, record: dict, resolved) -> list[dict]:
        if resolved is None or resolved[0]["method"] == "none":
            return []
        gold = resolved[0]
        self.stats["documents"] += 1
        return [{**self._article_fields(record), "entities": self._spans(gold["entities"]),
                 "title_entities": self._spans(gold["title_entities"]), "topics": self._topics(gold["topics"]),
                 "annotators": gold["annotators"], "resolution": gold["method"], "entity_agreement": gold["entity_agreement"],
                 **self._relations(gold["entities"], gold["relations"]), "carried_forward": gold["carried_forward"]}]

    def _ner_rows(self, record: dict, resolved) -> list[dict]:
        if resolved is None or resolved[0]["method"] == "none":
            return []
        conversion = NerConversion(self.stats)
        gold = resolved[0]
        return [*conversion.rows(record["id"], "title", record["title"], gold["title_entities"], self.tag_ids),
                *conversion.rows(record["id"], "text", record["text"], gold["entities"], self.tag_ids)]

    def _articles_rows(self, record: dict, resolved) -> list[dict]:
        annotated = resolved is not None and resolved[0]["method"] != "none"
        return [{**self._article_fields(record), "authors": record.get("authors", []), "license": record.get("license"), "annotated": annotated}]

    def _annotations_rows(self, record: dict, resolved) -> list[dict]:
        if resolved is None:
            return []
        return [{"article_id": a["article_id"], "task_id": a["task_id"], "annotation_id": a["annotation_id"],
                 "annotator": self.plan.pseudonyms.of(a["annotator"], a["article_id"]), "ground_truth": a["ground_truth"], "was_cancelled": a["cancelled"],
                 "entities": self._spans(a["entities"]), "title_entities": self._spans(a["title_entities"]),
                 "topics": self._topics(a["topics"]), "export": a["export"],
                 **self._relations(a["entities"], a["relations"]),
                 "review": a["review"], "parent_prediction": a["parent_prediction"], "carried_forward": a["carried_forward"]} for a in resolved[1]]
