"""One chunk of a split's articles as the four configs' Arrow tables, built column by column.

Each article and its resolved labels are read once for all configs. Spans arrive from the
resolved store as a list per field (resolve.stored_labels), so a column is the lists of a chunk
joined, and labels become ClassLabel ids in one Arrow call.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain

import pyarrow as pa
import pyarrow.compute as pc

from ..annotators import Pseudonyms
from ..taxonomy import Taxonomy
from .features import CONFIG_NAMES, release_features
from .ner import NerPart, ner_columns

ARTICLE_FIELDS = ("id", "title", "text", "source", "language", "url", "published")


def joined(lists: list[list]) -> tuple[pa.Array, list]:
    """The list offsets and the concatenated values of many lists."""
    offsets = [0]
    for values in lists:
        offsets.append(offsets[-1] + len(values))
    return pa.array(offsets, pa.int32()), list(chain.from_iterable(lists))


def label_ids(labels: list[str], names: pa.Array) -> pa.Array:
    return pc.index_in(pa.array(labels, pa.string()), value_set=names).cast(pa.int64())


class ChunkTables:
    """Builds the configs' tables of one chunk; `counts` gathers what the card reports (documents, ner drops)."""

    def __init__(self, taxonomy: Taxonomy, pseudonyms: Pseudonyms):
        self.taxonomy = taxonomy
        self.pseudonyms = pseudonyms
        self.schemas = {name: release_features(name, taxonomy).arrow_schema for name in CONFIG_NAMES}
        self.entity_names = pa.array(taxonomy.entity_names, pa.string())
        self.relation_names = pa.array(taxonomy.relation_names, pa.string())
        self.topic_ids = {n: i for i, n in enumerate(taxonomy.topic_names)}
        self.counts: Counter = Counter()

    def tables(self, records: list[dict], resolved: list[tuple[dict, list[dict]] | None]) -> dict[str, pa.Table]:
        annotated = [r is not None and r[0]["method"] != "none" for r in resolved]
        documents = [(record, r[0]) for record, r, a in zip(records, resolved, annotated) if a]
        annotations = [a for r in resolved if r is not None for a in r[1]]
        self.counts["documents"] += len(documents)
        return {
            "documents": self.table("documents", {
                **self.article_columns([record for record, _ in documents]),
                **self.label_columns([gold for _, gold in documents]),
                "annotators": [gold["annotators"] for _, gold in documents],
                "resolution": [gold["method"] for _, gold in documents],
                "entity_agreement": [gold["entity_agreement"] for _, gold in documents],
                "carried_forward": [gold["carried_forward"] for _, gold in documents],
            }),
            "ner": self.table("ner", ner_columns(
                [part for record, gold in documents for part in (
                    NerPart(record["id"], "title", record["title"], zip(*(gold["title_entities"][k] for k in ("start", "end", "label")))),
                    NerPart(record["id"], "text", record["text"], zip(*(gold["entities"][k] for k in ("start", "end", "label")))))],
                self.taxonomy.bio_names, self.counts)),
            "articles": self.table("articles", {
                **self.article_columns(records),
                "authors": [record.get("authors", []) for record in records],
                "license": [record.get("license") for record in records],
                "annotated": annotated,
            }),
            "annotations": self.table("annotations", {
                **{key: [a[key] for a in annotations] for key in ("article_id", "task_id", "annotation_id", "ground_truth", "export", "review",
                                                                    "parent_prediction", "carried_forward")},
                "annotator": [self.pseudonyms.of(a["annotator"], a["article_id"]) for a in annotations],
                "was_cancelled": [a["cancelled"] for a in annotations],
                **self.label_columns(annotations),
            }),
        }

    def table(self, name: str, columns: dict) -> pa.Table:
        schema = self.schemas[name]
        return pa.Table.from_arrays([pa.array(columns[f.name], f.type) if isinstance(columns[f.name], list) else columns[f.name] for f in schema],
                                    schema=schema)

    @staticmethod
    def article_columns(records: list[dict]) -> dict[str, list]:
        return {key: [record.get(key) for record in records] for key in ARTICLE_FIELDS}

    def label_columns(self, labels: list[dict]) -> dict[str, pa.Array | list]:
        columns = {"entities": self.spans([x["entities"] for x in labels], linked=self.taxonomy.links is not None),
                   "title_entities": self.spans([x["title_entities"] for x in labels]),
                   "topics": [sorted(self.topic_ids[t] for t in x["topics"]) for x in labels]}
        if self.taxonomy.relation_labels:
            columns["relations"] = self.relations([x["relations"] for x in labels])
        return columns

    def spans(self, columns: list[dict], linked: bool = False) -> pa.ListArray:
        """`linked`: the spans carry `kb_id`, null for a span without a link (a record without links stores none)."""
        offsets, starts = joined([c["start"] for c in columns])
        fields = [pa.array(starts, pa.int32()), pa.array(joined([c["end"] for c in columns])[1], pa.int32()),
                  label_ids(joined([c["label"] for c in columns])[1], self.entity_names), pa.array(joined([c["text"] for c in columns])[1], pa.string())]
        names = ["start", "end", "label", "text"]
        if linked:
            fields.append(pa.array(joined([c.get("kb_id") or [None] * len(c["start"]) for c in columns])[1], pa.string()))
            names.append("kb_id")
        return pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays(fields, names=names))

    def relations(self, columns: list[dict]) -> pa.ListArray:
        offsets, heads = joined([c["head"] for c in columns])
        values = pa.StructArray.from_arrays(
            [pa.array(heads, pa.int32()), pa.array(joined([c["tail"] for c in columns])[1], pa.int32()),
             label_ids(joined([c["label"] for c in columns])[1], self.relation_names)],
            names=["head", "tail", "label"])
        return pa.ListArray.from_arrays(offsets, values)
