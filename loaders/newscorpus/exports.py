"""Label Studio exports read into plain annotation records, with every check that needs the task text.

Offsets come back in code points. Older Label Studio versions stored UTF-16 units: that is proven
per span (the code-point slice differs from value.text, the UTF-16 slice matches) and converted,
with a warning. Nothing is ever re-aligned by searching the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import msgspec
import orjson

from . import progress
from .files import BOM, decode_bytes, is_utf8
from .layout import Layout
from .problems import Problem, Report
from .schemas import SchemaCheck
from .taxonomy import Taxonomy


def text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str
    text: str


def span_order(span: Span) -> tuple:
    """The order of spans in a release row: by start, the longer first, then by label."""
    return span.start, -span.end, span.label


@dataclass(frozen=True, slots=True)
class Relation:
    """A labelled link between two spans of the article text; `head` is Arg-1 of a directed label."""

    head: Span
    tail: Span
    label: str


@dataclass(slots=True)
class AnnotationRecord:
    """One annotator's work on one task, as the release's `annotations` config stores it."""

    article_id: str
    task_id: int
    annotation_id: int
    annotator: str
    ground_truth: bool
    cancelled: bool
    export: str
    entities: list[Span] = field(default_factory=list)
    title_entities: list[Span] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleDigest:
    text: bytes
    title: bytes


def annotator_name(completed_by) -> str:
    if isinstance(completed_by, dict):
        return completed_by.get("email") or f"user:{completed_by.get('id')}"
    return f"user:{completed_by}" if completed_by is not None else "unknown"


def utf16_to_codepoints(text: str, units: int) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "ignore"))


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


class TaskReader:
    """Turns one task's annotations into AnnotationRecords, reporting what it cannot take."""

    def __init__(self, taxonomy: Taxonomy, file: str):
        self.taxonomy = taxonomy
        self.file = file
        self.entity_labels = frozenset(taxonomy.entity_names)
        self.topic_labels = frozenset(taxonomy.topic_names)
        self.relation_labels = {label.name: label for label in taxonomy.relation_labels}
        self.span_targets = {(taxonomy.entity_control, taxonomy.entity_object): "text"}
        if taxonomy.title_control and taxonomy.title_object:
            self.span_targets[(taxonomy.title_control, taxonomy.title_object)] = "title"

    def read(self, index: int, task: dict) -> tuple[list[AnnotationRecord], list[Problem]]:
        problems: list[Problem] = []
        data = task["data"]
        texts = {"text": data["text"], "title": data.get("title", "")}
        records = []
        for a, annotation in enumerate(task.get("annotations", [])):
            record = AnnotationRecord(
                article_id=data["article_id"],
                task_id=task["id"],
                annotation_id=annotation["id"],
                annotator=annotator_name(annotation.get("completed_by")),
                ground_truth=bool(annotation.get("ground_truth", False)),
                cancelled=bool(annotation.get("was_cancelled", False)),
                export=self.file,
            )
            pointer = f"/{index}/annotations/{a}/result"
            regions: dict[str, tuple[str, list[Span]]] = {}
            for r, result in enumerate(annotation["result"]):
                self._read_result(result, f"{pointer}/{r}", task["id"], texts, record, problems, regions)
            if self.relation_labels:
                self._read_relations(annotation["result"], pointer, task["id"], regions, record, problems)
            records.append(record)
        return records, problems

    def _read_result(self, result, pointer, task_id, texts, record, problems, regions) -> None:
        def report(code, message, where=""):
            problems.append(Problem(code, self.file, message, task=task_id, pointer=pointer + where))

        kind, names = result["type"], (result.get("from_name"), result.get("to_name"))
        if kind == "labels":
            target = self.span_targets.get(names)
            if target is None:
                report("unknown-control", f"span result on {names[0]!r} -> {names[1]!r}; the taxonomy defines {sorted(self.span_targets)}")
                return
            span_text = texts[target]
            value = result["value"]
            kept = regions.setdefault(result.get("id"), (target, []))[1]
            start, end = self._codepoint_offsets(value, span_text, report)
            if start is None:
                return
            spans = record.entities if target == "text" else record.title_entities
            for i, label in enumerate(value["labels"]):
                if label not in self.entity_labels:
                    report("unknown-label", f"label {label!r} is not in the taxonomy", f"/value/labels/{i}")
                else:
                    spans.append(Span(start, end, label, span_text[start:end]))
                    kept.append(spans[-1])
        elif kind == "choices":
            if self.taxonomy.topic_control is None:
                report("unknown-control", f"choice result on {names[0]!r} -> {names[1]!r}; the taxonomy has no topics")
                return
            if names != (self.taxonomy.topic_control, self.taxonomy.topic_object):
                report("unknown-control", f"choice result on {names[0]!r} -> {names[1]!r}; topics are {self.taxonomy.topic_control!r} -> {self.taxonomy.topic_object!r}")
                return
            for i, choice in enumerate(result["value"]["choices"]):
                if choice not in self.topic_labels:
                    report("unknown-topic", f"topic {choice!r} is not in the taxonomy", f"/value/choices/{i}")
                elif choice not in record.topics:
                    record.topics.append(choice)
        elif kind != "relation" or not self.relation_labels:
            report("result-ignored", f"a {kind!r} result is not compiled into the release")

    def _read_relations(self, results, pointer, task_id, regions, record, problems) -> None:
        """Relations, once every span of the annotation is known: Label Studio lists them in any order.

        A relation joins two kept spans of the article text; "left" points from `to_id` to `from_id`.
        An undirected label puts its spans in text order, so annotators who drew it either way agree.
        """
        for r, result in enumerate(results):
            if result["type"] != "relation":
                continue
            ids = (result["from_id"], result["to_id"])
            where = f"{pointer}/{r}"

            def report(code, message, field=""):
                problems.append(Problem(code, self.file, f"relation {ids[0]!r} -> {ids[1]!r} of annotation {record.annotation_id}: {message}",
                                        task=task_id, pointer=where + field))

            ends = []
            for key, region_id in zip(("from_id", "to_id"), ids):
                target, spans = regions.get(region_id, (None, []))
                if target is None:
                    report("relation-unknown-span", f"{key} {region_id!r} names no span result of this annotation", f"/{key}")
                elif target != "text":
                    report("relation-unknown-span", f"{key} {region_id!r} is a span of the {target}; relations join spans of the article text", f"/{key}")
                elif not spans:
                    report("relation-unknown-span", f"{key} {region_id!r} names a span that was dropped for its own error", f"/{key}")
                ends.append(spans)
            labels = result.get("labels") or []
            if not labels:
                report("relation-unlabeled", "the relation has no label")
            direction = result.get("direction", "right")
            for i, name in enumerate(labels):
                label = self.relation_labels.get(name)
                if label is None:
                    report("unknown-relation-label", f"label {name!r} is not a relation in the taxonomy", f"/labels/{i}")
                elif label.directed and direction == "bi":
                    report("relation-direction", f"{name!r} is directed, so the relation must point one way (direction is 'bi')", "/direction")
                else:
                    heads, tails = ends if direction != "left" else ends[::-1]
                    for pair in product(heads, tails):
                        head, tail = pair if label.directed else sorted(pair, key=span_order)
                        record.relations.append(Relation(head, tail, name))

    @staticmethod
    def _codepoint_offsets(value, text, report) -> tuple[int | None, int | None]:
        start, end = value["start"], value["end"]
        if start >= end:
            report("span-inverted", f"start {start} is not before end {end}", "/value")
            return None, None
        given = value.get("text")
        if given is None:
            if end > len(text):
                report("span-out-of-range", f"end {end} is past the end of the text ({len(text)} characters)", "/value/end")
                return None, None
            report("value-text-missing", "no value.text to prove the offsets; taken as code points", "/value")
            return start, end
        if text[start:end] == given or (end <= len(text) and collapse_whitespace(text[start:end]) == collapse_whitespace(given)):
            return start, end
        cp_start, cp_end = utf16_to_codepoints(text, start), utf16_to_codepoints(text, end)
        if cp_end > cp_start and text[cp_start:cp_end] == given and len(text.encode("utf-16-le", "surrogatepass")) >= 2 * end:
            report("utf16-offsets", f"offsets {start}-{end} are UTF-16 units; converted to code points {cp_start}-{cp_end}", "/value")
            return cp_start, cp_end
        if end > len(text):
            report("span-out-of-range", f"end {end} is past the end of the text ({len(text)} characters)", "/value/end")
        else:
            report("span-text-mismatch", f"text at {start}-{end} is {text[start:end][:60]!r}, value.text is {given[:60]!r}", "/value/text")
        return None, None


def split_export(path: Path, file: str, export_schema: SchemaCheck) -> tuple[list | None, list[Problem]]:
    """The export's tasks as undecoded byte slices, so a file is never held as Python objects whole.

    A file that is not a JSON list is parsed in full, only to say precisely what is wrong with it.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        return None, [Problem("file-unreadable", file, err.strerror or str(err))]
    try:
        if raw.startswith(BOM) or not is_utf8(raw):
            raise ValueError
        return msgspec.json.decode(raw, type=list[msgspec.Raw]), []
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
        document, problem = decode_bytes(raw, file)
        if problem:
            return None, [problem]
        return None, [Problem("schema-error", file, message, pointer=pointer) for pointer, message in export_schema.errors(document)]


@dataclass
class TaskOutcome:
    index: int
    task_id: int
    current: bool | None  # None: the article is not in the corpus
    records: list[AnnotationRecord]


def iter_current_annotations(
    layout: Layout, taxonomy: Taxonomy, corpus: dict[str, ArticleDigest], report: Report, exports: list[Path] | None = None
) -> Iterator[tuple[str, list[AnnotationRecord]]]:
    """(article id, its annotations) from the newest export that has the article, newest export first.

    An older export's tasks for an article that a newer export also has are superseded whole: Label
    Studio exports are snapshots of the project, so the newest one is the truth. Each task is
    decoded, checked and reduced to plain records on its own; one file's records are kept until
    the file is done, because an article's tasks may lie anywhere in it.
    """
    export_schema = SchemaCheck(layout.schema_path("labelstudio-export.schema.json"))
    task_schema = SchemaCheck(layout.schema_path("labelstudio-export.schema.json"), definition="task")
    claimed: set[str] = set()
    for path in reversed(layout.exports() if exports is None else exports):
        file = layout.relative(path)
        items, problems = split_export(path, file, export_schema)
        report.extend(problems)
        if items is None:
            continue
        report.counts["tasks"] += len(items)
        reader = TaskReader(taxonomy, file)
        outcomes: dict[str, list[TaskOutcome]] = {}
        superseded = 0
        for index, item in enumerate(items):
            progress.advance(1, len(item))
            task = orjson.loads(memoryview(item))
            errors = task_schema.errors(task, prefix=(index,))
            if errors:
                task_id = task.get("id") if isinstance(task, dict) and isinstance(task.get("id"), int) else None
                report.extend(Problem("schema-error", file, message, task=task_id, pointer=pointer) for pointer, message in errors)
                continue
            article_id = task["data"]["article_id"]
            if article_id in claimed:
                superseded += 1
                continue
            records, task_problems = reader.read(index, task)
            report.extend(task_problems)
            digest = corpus.get(article_id)
            outcomes.setdefault(article_id, []).append(TaskOutcome(index, task["id"], is_current(task, digest) if digest else None, records))
        for article_id, article_tasks in outcomes.items():
            has_current = any(t.current for t in article_tasks)
            records = []
            for outcome in article_tasks:
                if outcome.current is None:
                    report.add(Problem("unknown-article", file, f"article {article_id!r} is not in the corpus", task=outcome.task_id, pointer=f"/{outcome.index}/data/article_id"))
                elif not outcome.current:
                    code = "stale-task-superseded" if has_current else "stale-task"
                    report.add(Problem(code, file, f"the text or title of article {article_id!r} changed after this task was pushed; push it again and re-annotate", task=outcome.task_id, pointer=f"/{outcome.index}/data/text"))
                else:
                    records.extend(outcome.records)
            report.counts["annotations"] += len(records)
            if records:
                yield article_id, records
        claimed.update(outcomes)
        if superseded:
            report.add(Problem("annotation-superseded", file, f"{superseded} tasks are superseded by newer exports"))
        del items, outcomes  # before the next file is read: peak memory is one export, not two


def is_current(task: dict, digest: ArticleDigest) -> bool:
    data = task["data"]
    return text_digest(data["text"]) == digest.text and ("title" not in data or text_digest(data["title"]) == digest.title)
