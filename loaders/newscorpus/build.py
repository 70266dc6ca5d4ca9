"""Build: the Hugging Face `datasets` builder that turns the corpus and resolved labels into tables.

Shaped like datasets' own Parquet loader: one BuilderConfig per release config, features derived
from the taxonomy in one place (`release_features`), and Arrow tables yielded in batches.
The NER conversion keeps the outermost span where spans nest or cross, and counts every span it
drops, by reason, for the dataset card.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import datasets
import pyarrow as pa
from datasets import ClassLabel, Features, List, Value

from .ingest import iter_articles
from .layout import Layout
from .resolve import ResolvedStore
from .split import SPLITS
from .taxonomy import Taxonomy

CONFIG_NAMES = ("documents", "ner", "articles", "annotations")
TOKEN = re.compile(r"\w+(?:['’-]\w+)*|[^\w\s]")
PARAGRAPH = re.compile(r"[^\n]+")


def release_features(config: str, taxonomy: Taxonomy) -> Features:
    """The typed schema of each config; ClassLabel names come from the taxonomy only."""
    span = List({"start": Value("int32"), "end": Value("int32"), "label": ClassLabel(names=taxonomy.entity_names), "text": Value("string")})
    topics = List(ClassLabel(names=taxonomy.topic_names))
    article = {
        "id": Value("string"), "title": Value("string"), "text": Value("string"), "source": Value("string"),
        "language": Value("string"), "url": Value("string"), "published": Value("string"),
    }
    if config == "documents":
        return Features({**article, "entities": span, "title_entities": span, "topics": topics,
                         "annotators": Value("int32"), "resolution": Value("string"), "entity_agreement": Value("float32")})
    if config == "ner":
        return Features({"id": Value("string"), "article_id": Value("string"), "part": Value("string"), "paragraph": Value("int32"),
                         "tokens": List(Value("string")), "token_start": List(Value("int32")), "token_end": List(Value("int32")),
                         "ner_tags": List(ClassLabel(names=taxonomy.bio_names))})
    if config == "articles":
        return Features({**article, "authors": List(Value("string")), "license": Value("string"), "annotated": Value("bool")})
    if config == "annotations":
        return Features({"article_id": Value("string"), "task_id": Value("int64"), "annotation_id": Value("int64"),
                         "annotator": Value("string"), "ground_truth": Value("bool"), "was_cancelled": Value("bool"),
                         "entities": span, "title_entities": span, "topics": topics, "export": Value("string")})
    raise ValueError(f"unknown config {config!r}")


@dataclass
class NerConversion:
    """BIO tags for one text, outermost span first; every span is counted as kept or dropped by reason."""

    counts: Counter = field(default_factory=Counter)

    def rows(self, article_id: str, part: str, text: str, spans: list[dict], tag_ids: dict[str, int]) -> Iterator[dict]:
        paragraphs = [(m.start(), m.end()) for m in PARAGRAPH.finditer(text)] if part == "text" else [(0, len(text))]
        tokens = [[(m.start() + p0, m.end() + p0, m.group()) for m in TOKEN.finditer(text[p0:p1])] for p0, p1 in paragraphs]
        starts = [[t[0] for t in toks] for toks in tokens]
        tags = [[0] * len(t) for t in tokens]
        for span in self.outermost(spans):
            self.counts["ner_spans"] += 1
            p = bisect_left(paragraphs, (span["start"] + 1, -1)) - 1
            if p < 0 or span["end"] > paragraphs[p][1]:
                self.counts["ner_dropped_crosses_paragraph"] += 1
                continue
            first = bisect_left(starts[p], span["start"])
            inside = [i for i in range(first, len(tokens[p])) if tokens[p][i][1] <= span["end"]]
            if not inside:
                self.counts["ner_dropped_no_whole_token"] += 1
                continue
            self.counts["ner_spans_kept"] += 1
            if tokens[p][inside[0]][0] != span["start"] or tokens[p][inside[-1]][1] != span["end"]:
                self.counts["ner_spans_trimmed_to_tokens"] += 1
            label = span["label"]
            tags[p][inside[0]] = tag_ids[f"B-{label}"]
            for i in inside[1:]:
                tags[p][i] = tag_ids[f"I-{label}"]
        for p, toks in enumerate(tokens):
            if toks:
                yield {"id": f"{article_id}/{part}/{p}", "article_id": article_id, "part": part, "paragraph": p,
                       "tokens": [t[2] for t in toks], "token_start": [t[0] for t in toks], "token_end": [t[1] for t in toks],
                       "ner_tags": tags[p]}

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
    """What one build reads: the corpus, the resolved labels, and where each article goes."""

    layout: Layout
    taxonomy: Taxonomy
    store_path: object
    splits: dict[str, str]
    description: str = ""
    license: str = ""


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
        super().__init__(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.plan.description, license=self.plan.license,
                                    features=release_features(self.config.name, self.plan.taxonomy))

    def _split_generators(self, dl_manager):
        present = set(self.plan.splits.values())
        return [datasets.SplitGenerator(name=name, gen_kwargs={"split": name}) for name in SPLITS if name in present]

    def _generate_tables(self, split: str):
        schema = self.info.features.arrow_schema
        store = ResolvedStore(self.plan.store_path)
        rows = getattr(self, f"_{self.config.name}_rows")
        batch: list[dict] = []
        batch_index = 0
        try:
            for record in iter_articles(self.plan.layout):
                if self.plan.splits.get(record["id"]) != split:
                    continue
                batch.extend(rows(record, store.get(record["id"])))
                if len(batch) >= self.config.batch_size:
                    yield datasets.builder.Key(0, batch_index), pa.Table.from_pylist(batch, schema=schema)
                    batch, batch_index = [], batch_index + 1
            if batch:
                yield datasets.builder.Key(0, batch_index), pa.Table.from_pylist(batch, schema=schema)
        finally:
            store.close()

    def _spans(self, spans: list[dict]) -> list[dict]:
        return [{"start": s["start"], "end": s["end"], "label": self.entity_ids[s["label"]], "text": s["text"]} for s in spans]

    def _topics(self, topics: list[str]) -> list[int]:
        return sorted(self.topic_ids[t] for t in topics)

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
                 "annotators": gold["annotators"], "resolution": gold["method"], "entity_agreement": gold["entity_agreement"]}]

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
                 "annotator": a["annotator"], "ground_truth": a["ground_truth"], "was_cancelled": a["cancelled"],
                 "entities": self._spans(a["entities"]), "title_entities": self._spans(a["title_entities"]),
                 "topics": self._topics(a["topics"]), "export": a["export"]} for a in resolved[1]]
