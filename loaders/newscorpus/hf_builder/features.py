"""The typed schema of each release config: ClassLabel names come from the taxonomy only."""

from __future__ import annotations

from datasets import ClassLabel, Features, List, Value

from ..taxonomy import Taxonomy

CONFIG_NAMES = ("documents", "ner", "articles", "annotations")


def release_features(config: str, taxonomy: Taxonomy) -> Features:
    span = List({"start": Value("int32"), "end": Value("int32"), "label": ClassLabel(names=taxonomy.entity_names), "text": Value("string")})
    # an article text span's id in the knowledge base (null: not linked); a taxonomy without links has no kb_id
    entities = List({**span.feature, "kb_id": Value("string")}) if taxonomy.links else span
    topics = List(ClassLabel(names=taxonomy.topic_names))
    # head and tail index that row's `entities`; a taxonomy without relations has no such column
    relations = {"relations": List({"head": Value("int32"), "tail": Value("int32"), "label": ClassLabel(names=taxonomy.relation_names)})} \
        if taxonomy.relation_labels else {}
    article = {
        "id": Value("string"), "title": Value("string"), "text": Value("string"), "source": Value("string"),
        "language": Value("string"), "url": Value("string"), "published": Value("string"),
    }
    if config == "documents":
        return Features({**article, "entities": entities, "title_entities": span, "topics": topics,
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
                         "entities": entities, "title_entities": span, "topics": topics, "export": Value("string"), **relations,
                         "review": Value("bool"), "parent_prediction": {"id": Value("int64"), "model_version": Value("string")},
                         "carried_forward": Value("bool")})
    raise ValueError(f"unknown config {config!r}")
