"""Label Studio exports read into plain annotation records, with every check that needs the task text.

Offsets come back in code points. Older Label Studio versions stored UTF-16 units: that is proven
per span (the code-point slice differs from value.text, the UTF-16 slice matches) and converted,
with a warning. Nothing is ever re-aligned by searching the text.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import NamedTuple

import msgspec
import orjson

from . import progress
from .annotators import annotator_identity
from .carry import TaskChange, stale_difference
from .corpus import articles_by_id, text_digest
from .files import BOM, EXPORT_LIMIT, TooDeep, decode_bytes, duplicate_key, duplicate_key_problem, is_utf8, read_bounded
from .layout import Layout
from .problems import Problem, Report
from .schemas import SchemaCheck, json_pointer
from .taxonomy import Taxonomy
from .workers import WorkerPool


class Span(NamedTuple):
    """A labelled stretch of text: a tuple, so the sets that resolution compares hash and compare it in C."""

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


@dataclass(frozen=True, slots=True)
class PredictionRef:
    """The prediction an annotation started from: Label Studio's id, and its model version when the export says."""

    id: int
    model_version: str | None = None


@dataclass(slots=True)
class AnnotationRecord:
    """One annotator's work on one task, as the release's `annotations` config stores it."""

    article_id: str
    task_id: int
    annotation_id: int
    annotator: str  # annotators.annotator_identity: `user:<Label Studio user id>` or `anonymous:<annotation id>`
    ground_truth: bool
    cancelled: bool
    export: str
    entities: list[Span] = field(default_factory=list)
    title_entities: list[Span] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    review: bool = False  # an annotation of a review task (`studio review`): it adjudicates the article
    parent_prediction: PredictionRef | None = None
    carried_forward: bool = False  # the task's text was corrected since; the spans were moved onto the corpus text


@dataclass(frozen=True, slots=True)
class ArticleDigest:
    text: bytes
    title: bytes


def utf16_to_codepoints(text: str, units: int) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "ignore"))


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


CONVERSION_MESSAGES = {
    "completions-read": "{n} tasks keep their annotations under `completions` (Label Studio 0.x); read as annotations (first here)",
    "annotation-id-derived": "{n} annotations have no id; each gets task id x 1000 + its position from 1, as Label Studio 0.x numbered them (first here)",
    "annotator-missing": "{n} annotations name no annotator (no completed_by); each counts as an annotator of its own (first here)",
}


class TaskReader:
    """Turns one task's annotations into AnnotationRecords, reporting what it cannot take."""

    def __init__(self, taxonomy: Taxonomy, file: str):
        self.taxonomy = taxonomy
        self.file = file
        self.entity_labels = {name: name for name in taxonomy.entity_names}  # spans keep the taxonomy's one str of each label
        self.topic_labels = frozenset(taxonomy.topic_names)
        self.relation_labels = {label.name: label for label in taxonomy.relation_labels}
        self.span_targets = {(taxonomy.entity_control, taxonomy.entity_object): "text"}
        if taxonomy.title_control and taxonomy.title_object:
            self.span_targets[(taxonomy.title_control, taxonomy.title_object)] = "title"
        self.conversions: dict[str, tuple[int, str]] = {}
        self.conversion_counts: Counter = Counter()

    def read(self, pointer: str, task: dict) -> tuple[list[AnnotationRecord], list[Problem]]:
        """`pointer` is the task's place in the file: `/3` in a list, empty for a one-task file."""
        problems: list[Problem] = []
        data = task["data"]
        task_id = task["id"]
        texts = {"text": data["text"], "title": data.get("title", "")}
        key, work = self._work_of(task, task_id, pointer, problems)
        records = []
        review = is_review_task(task)
        for a, annotation in enumerate(work):
            where = f"{pointer}/{key}/{a}"
            annotation_id = annotation.get("id")
            if annotation_id is None:
                annotation_id = task_id * 1000 + a + 1
                self._convert("annotation-id-derived", task_id, where)
            if annotation.get("completed_by") is None:
                self._convert("annotator-missing", task_id, where)
            record = AnnotationRecord(
                article_id=data["article_id"],
                task_id=task_id,
                annotation_id=annotation_id,
                annotator=annotator_identity(annotation.get("completed_by"), annotation_id),
                ground_truth=bool(annotation.get("ground_truth", False)),
                cancelled=bool(annotation.get("was_cancelled", False) or annotation.get("skipped", False)),
                export=self.file,
                review=review,
                parent_prediction=parent_prediction(annotation, task),
            )
            regions: dict[str, tuple[str, list[Span]]] = {}
            for r, result in enumerate(annotation["result"]):
                self._read_result(result, where, r, task_id, texts, record, problems, regions)
            if self.relation_labels:
                self._read_relations(annotation["result"], f"{where}/result", task_id, regions, record, problems)
            records.append(record)
        return records, problems

    def _work_of(self, task: dict, task_id: int, pointer: str, problems: list[Problem]) -> tuple[str, list]:
        """The task's annotations: Label Studio 0.x kept them under `completions`; both keys are read only when equal."""
        if "completions" not in task:
            return "annotations", task.get("annotations", [])
        if "annotations" not in task:
            self._convert("completions-read", task_id, f"{pointer}/completions")
            return "completions", task["completions"]
        if task["annotations"] != task["completions"]:
            problems.append(Problem("completions-conflict", self.file, "the task has both `annotations` and `completions` and they differ: "
                                    "Label Studio writes one or the other; export the project again", task=task_id, pointer=pointer))
            return "annotations", []
        return "annotations", task["annotations"]

    def _convert(self, code: str, task_id: int, pointer: str) -> None:
        """Counts one conversion; the file reports each kind once, at its first place."""
        if code not in self.conversions:
            self.conversions[code] = (task_id, pointer)
        self.conversion_counts[code] += 1

    def conversion_problems(self) -> list[Problem]:
        return [Problem(code, self.file, CONVERSION_MESSAGES[code].format(n=self.conversion_counts[code]), task=task_id, pointer=pointer)
                for code, (task_id, pointer) in self.conversions.items()]

    def _read_result(self, result, where, r, task_id, texts, record, problems, regions) -> None:
        """One result of annotation `where`, as its r-th; the exact span, by far the most common, takes the short way."""
        def report(code, message, field=""):
            problems.append(Problem(code, self.file, message, task=task_id, pointer=f"{where}/result/{r}{field}"))

        kind, names = result["type"], (result.get("from_name"), result.get("to_name"))
        if kind == "labels":
            target = self.span_targets.get(names)
            if target is None:
                report("unknown-control", f"span result on {names[0]!r} -> {names[1]!r}; the taxonomy defines {sorted(self.span_targets)}")
                return
            span_text = texts[target]
            value = result["value"]
            region = result.get("id")
            kept = regions[region][1] if region in regions else regions.setdefault(region, (target, []))[1]
            start, end, given = value["start"], value["end"], value.get("text")
            if start < end and given is not None and span_text[start:end] == given:
                covered = given
            else:
                start, end = self._codepoint_offsets(value, span_text, report)
                if start is None:
                    return
                covered = span_text[start:end]
            spans = record.entities if target == "text" else record.title_entities
            for i, label in enumerate(value["labels"]):
                name = self.entity_labels.get(label)
                if name is None:
                    report("unknown-label", f"label {label!r} is not in the taxonomy", f"/value/labels/{i}")
                else:
                    spans.append(Span(start, end, name, covered))
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
                    spans = []  # reported: the relation keeps no end there
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


def is_review_task(task: dict) -> bool:
    return "review" in task["data"]


def parent_prediction(annotation: dict, task: dict) -> PredictionRef | None:
    """Label Studio exports the parent's id only; its model version is found in the prediction the
    annotator was shown (`annotation.prediction`) or in expanded task predictions, when they match."""
    parent = annotation.get("parent_prediction")
    if not isinstance(parent, int):
        return None
    shown = [annotation.get("prediction")] + [p for p in task.get("predictions", []) if isinstance(p, dict)]
    versions = [p.get("model_version") for p in shown if isinstance(p, dict) and p.get("id") == parent]
    return PredictionRef(parent, next((v for v in versions if isinstance(v, str)), None))


@dataclass
class ExportTasks:
    """An export's tasks as undecoded byte slices, and where each lies in the file."""

    items: list
    single: bool = False  # the file is one task object (Label Studio 0.x wrote one per file), read as a one-task list

    def place(self, index: int) -> tuple:
        return () if self.single else (index,)


def split_export(path: Path, file: str) -> tuple[ExportTasks | None, list[Problem]]:
    """The export's tasks, so a file is never held as Python objects whole.

    A file that is not a JSON list is parsed in full: it is one task object, or it is refused.
    """
    raw, problem = read_bounded(path, file, EXPORT_LIMIT)
    if problem:
        return None, [problem]
    try:
        if raw.startswith(BOM) or not is_utf8(raw):
            raise ValueError
        return ExportTasks(msgspec.json.decode(raw, type=list[msgspec.Raw])), []
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):  # msgspec's depth limit is a RecursionError
        document, problem = decode_bytes(raw, file)
        if problem:
            return None, [problem]
    if isinstance(document, list):
        return ExportTasks([orjson.dumps(task) for task in document]), []
    if isinstance(document, dict) and "data" in document:
        return ExportTasks([raw], single=True), []
    return None, [Problem("schema-error", file, f"the top level is {describe_json(document)}; a Label Studio JSON export is "
                                                 "a list of tasks, or one task object with `data` (Label Studio 0.x)")]


def describe_json(value) -> str:
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:5]) + (", ..." if len(value) > 5 else "")
        return f"an object with keys {keys}" if value else "an empty object"
    kinds = {str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


INT64_MAX = 2**63 - 1


def not_whole_numbers(task: dict, pointer: str) -> list[tuple[str, str]]:
    """The schema's `integer` accepts 3.0 and numbers past 64 bits (orjson reads those as floats);
    ids go into int64 columns and offsets slice text, so both must be Python ints that fit."""
    def check(value, pointer):
        if value is not None and (type(value) is not int or not 0 <= value <= INT64_MAX):
            found.append((pointer, f"expected a whole number from 0 to {INT64_MAX} written without a decimal point or exponent, found {value!r}"))

    found: list[tuple[str, str]] = []
    check(task["id"], f"{pointer}/id")
    for work in ("annotations", "completions"):
        for a, annotation in enumerate(task.get(work, [])):
            check(annotation.get("id"), f"{pointer}/{work}/{a}/id")  # missing: derived by TaskReader
            for r, result in enumerate(annotation["result"]):
                if result["type"] == "labels":
                    for key in ("start", "end"):
                        check(result["value"][key], f"{pointer}/{work}/{a}/result/{r}/value/{key}")
    return found


CHECK_BATCH = 500  # tasks a worker checks at a time
CHECKS_AHEAD = 4  # batches sent ahead of the one being read: a bound on the copies in flight


def checked_task(item, place: tuple, schema: SchemaCheck, file: str) -> tuple[dict | None, list[Problem]]:
    """One task decoded and checked on its own: JSON, duplicate keys, the export schema, whole numbers."""
    pointer = json_pointer(place)
    try:
        task = orjson.loads(memoryview(item))
    except orjson.JSONDecodeError as err:  # msgspec split the list; orjson is stricter about numbers (1e400)
        return None, [Problem("json-error", file, err.msg, pointer=pointer)]
    task_id = task.get("id") if isinstance(task, dict) and type(task.get("id")) is int else None
    try:
        key = duplicate_key(bytes(item), task)
    except TooDeep as err:
        return None, [Problem("json-error", file, str(err), task=task_id, pointer=pointer)]
    if key is not None:
        return None, [duplicate_key_problem(key, file, task=task_id, pointer=pointer)]
    errors = schema.errors(task, prefix=place)
    if errors:
        return None, [Problem("schema-error", file, message, task=task_id, pointer=where) for where, message in errors]
    errors = not_whole_numbers(task, pointer)
    if errors:
        return None, [Problem("number-error", file, message, task=task_id, pointer=where) for where, message in errors]
    return task, []


_task_schemas: dict[Path, SchemaCheck] = {}


def task_schema(schema_path: Path) -> SchemaCheck:
    if schema_path not in _task_schemas:
        _task_schemas[schema_path] = SchemaCheck(schema_path, definition="task")
    return _task_schemas[schema_path]


def check_task_batch(schema_path: Path, file: str, items: list[bytes], places: list[tuple]) -> list[list[Problem]]:
    """A worker's part of checked_tasks: each task's problems, none for a valid one."""
    schema = task_schema(schema_path)
    return [checked_task(item, place, schema, file)[1] for item, place in zip(items, places)]


def checked_tasks(export: ExportTasks, schema_path: Path, file: str, pool) -> Iterator[tuple[dict | None, list[Problem]]]:
    """(task, []) for each valid task of the export in order, (None, its problems) for the others.

    With a pool of workers, they check batches of tasks ahead, and a valid task is decoded here
    again (about a sixth of what checking it costs): a decoded task is bigger than its bytes.
    """
    schema = task_schema(schema_path)
    if not isinstance(pool, WorkerPool):
        for index, item in enumerate(export.items):
            yield checked_task(item, export.place(index), schema, file)
        return
    starts = range(0, len(export.items), CHECK_BATCH)
    pending: deque = deque()

    def send(start: int) -> None:
        batch = range(start, min(start + CHECK_BATCH, len(export.items)))
        pending.append(pool.submit(check_task_batch, schema_path, file, [bytes(export.items[i]) for i in batch], [export.place(i) for i in batch]))

    for start in starts[:CHECKS_AHEAD]:
        send(start)
    for n, start in enumerate(starts):
        problems_of = pending.popleft().result()
        if n + CHECKS_AHEAD < len(starts):
            send(starts[n + CHECKS_AHEAD])
        for item, problems in zip(export.items[start : start + CHECK_BATCH], problems_of):
            yield (None, problems) if problems else (orjson.loads(memoryview(item)), [])


@dataclass
class TaskOutcome:
    pointer: str  # the task's place in its file
    task_id: int
    current: bool | None  # None: the article is not in the corpus
    records: list[AnnotationRecord]
    seen: dict[str, str] | None = None  # a stale task's title and text, as its annotators saw them


@dataclass
class ArticleTasks:
    """One article's tasks in one export (its review tasks apart), given once its last task has been read."""

    file: str
    article_id: str
    review: bool
    first: int  # where its first task lies in the file: what is said of articles is said in this order
    tasks: list[TaskOutcome]


@dataclass
class ExportRead:
    """The end of one export: its tasks left out, by why."""

    file: str
    left_out: Counter


class TaskKeyData(msgspec.Struct):
    article_id: object = None
    review: object = msgspec.UNSET


class TaskKey(msgspec.Struct):
    """What finding an article's last task in a file needs of a task; everything else is skipped unread."""

    data: TaskKeyData


TASK_KEY = msgspec.json.Decoder(TaskKey)


def last_tasks(export: ExportTasks) -> tuple[list, dict[int, tuple[str, bool]]]:
    """Each task's (article id, review task?), None where it cannot be read (an invalid task), and
    index of an article's last task -> the article: the tasks pass in order, so an article is done there."""
    keys = []
    for item in export.items:
        try:
            data = TASK_KEY.decode(item).data
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            keys.append(None)
            continue
        keys.append((data.article_id, data.review is not msgspec.UNSET) if type(data.article_id) is str else None)
    last = {key: index for index, key in enumerate(keys) if key is not None}
    return keys, {index: key for key, index in last.items()}


def iter_export_tasks(
    layout: Layout, taxonomy: Taxonomy, corpus: dict[str, ArticleDigest], report: Report, exports: list[Path] | None = None, pool=None,
) -> Iterator[ArticleTasks | ExportRead]:
    """Each article's tasks of each export, newest export first, each article from the newest
    export that has it; an ExportRead after each file's articles.

    An older export's tasks for an article that a newer export also has are superseded whole: Label
    Studio exports are snapshots of the project, so the newest one is the truth. Review tasks
    (`studio review`) supersede only review tasks: a review never erases the annotations it
    adjudicates, so an article can come twice, once for each. Each task is decoded, checked and
    reduced to plain records on its own, and an article is given as soon as its last task in the
    file has passed (a quick pass over the file finds where that is), so the records of a whole
    export are never held at once. With a pool of workers, they decode and check the tasks
    (checked_tasks) while this process reads the ones before.
    """
    schema_path = layout.schema_path("labelstudio-export.schema.json")
    claimed: set[tuple[str, bool]] = set()  # (article id, review task?) of newer exports
    for path in reversed(layout.exports() if exports is None else exports):
        file = layout.relative(path)
        left_out: Counter = Counter()
        # its own generator, so nothing of this file (a task's bytes hold the whole file) is alive while the next is read
        given = yield from export_articles(path, file, taxonomy, corpus, report, schema_path, claimed, left_out, pool)
        if given is not None:
            claimed.update(given)
            yield ExportRead(file, left_out)


def export_articles(path: Path, file: str, taxonomy: Taxonomy, corpus: dict[str, ArticleDigest], report: Report, schema_path: Path,
                    claimed: set[tuple[str, bool]], left_out: Counter, pool) -> Iterator[ArticleTasks]:
    """The articles of one export that newer ones do not claim; returns the articles that had a task
    counting (they supersede older exports), or None when the file cannot be read as an export."""
    export, problems = split_export(path, file)
    report.extend(problems)
    if export is None:
        return None
    report.counts["tasks"] += len(export.items)
    reader = TaskReader(taxonomy, file)
    keys, ends = last_tasks(export)
    open_articles: dict[tuple[str, bool], ArticleTasks] = {}
    read: set[tuple[str, bool]] = set()  # articles whose last task has passed
    given: set[tuple[str, bool]] = set()
    for index, (item, (task, problems)) in enumerate(zip(export.items, checked_tasks(export, schema_path, file, pool))):
        progress.advance(1, len(item))
        if task is None:
            report.extend(problems)
            left_out["invalid"] += 1
        else:
            article_id = task["data"]["article_id"]
            key = (article_id, is_review_task(task))
            if key != keys[index] or key in read:
                raise RuntimeError(f"{file}: task {index} is of {key}, the quick pass read {keys[index]}")
            if key in claimed:
                left_out[SUPERSEDED] += 1
            else:
                pointer = json_pointer(export.place(index))
                records, task_problems = reader.read(pointer, task)
                report.extend(task_problems)
                digest = corpus.get(article_id)
                current = is_current(task, digest) if digest else None
                seen = {part: task["data"][part] for part in ("title", "text") if part in task["data"]} if current is False else None
                article = open_articles.get(key)
                if article is None:
                    article = open_articles[key] = ArticleTasks(file, article_id, key[1], index, [])
                    given.add(key)
                article.tasks.append(TaskOutcome(pointer, task["id"], current, records, seen))
        done = ends.get(index)
        if done is not None:
            read.add(done)
            if done in open_articles:
                yield open_articles.pop(done)
    report.extend(reader.conversion_problems())
    return given


SUPERSEDED = "superseded by a newer export"


def iter_current_annotations(
    layout: Layout, taxonomy: Taxonomy, corpus: dict[str, ArticleDigest], report: Report,
    exports: list[Path] | None = None, carry: bool = True, pool=None,
) -> Iterator[tuple[str, list[AnnotationRecord]]]:
    """(article id, its annotations) from the newest export that has the article, newest export first.

    `carry`: whether the labels of a stale task (its article corrected since) are carried to the
    corpus text (see carry.py) or the task is an error. What is said of an article comes after what
    was said of its file's tasks, in the order of the articles' first tasks: the report does not
    depend on when an article is done. Articles with stale tasks wait for the end of their file,
    which reads their corpus text in one pass.
    """
    said: list[tuple[int, list[Problem], list[str]]] = []  # each article's first task, its problems, its tasks' fates
    stale: list[ArticleTasks] = []
    contributed = 0

    def resolve(article: ArticleTasks, corpus_article: dict | None) -> list[AnnotationRecord]:
        nonlocal contributed
        problems = Report()
        records = current_records(article.file, article.article_id, article.tasks, corpus_article, problems, carry)
        said.append((article.first, problems.problems, [task_fate(t) for t in article.tasks]))
        report.counts["annotations"] += len(records)
        contributed += len(records)
        return records

    for item in iter_export_tasks(layout, taxonomy, corpus, report, exports, pool):
        if isinstance(item, ArticleTasks):
            if any(t.current is False for t in item.tasks):
                stale.append(item)
            elif records := resolve(item, None):
                yield item.article_id, records
            continue
        articles = articles_by_id(layout, {article.article_id for article in stale})
        for article in stale:
            if records := resolve(article, articles.get(article.article_id)):
                yield article.article_id, records
        file, left_out = item.file, item.left_out
        fates = Counter(left_out)  # why tasks gave nothing, said only when the whole file gives nothing
        for _, problems, article_fates in sorted(said, key=lambda s: s[0]):
            report.extend(problems)
            fates.update(article_fates)
        if not contributed:  # one warning per file: this one counts the superseded tasks too
            report.add(Problem("export-contributes-nothing", file, "no annotation of this export reaches a release: " + why_nothing(fates)))
        elif left_out[SUPERSEDED]:
            report.add(Problem("annotation-superseded", file, f"{left_out[SUPERSEDED]} tasks are superseded by newer exports"))
        said, stale, contributed = [], [], 0


def task_fate(task: TaskOutcome) -> str:
    if task.current is None:
        return "for an article not in the corpus"
    if task.current is False:
        return "stale"
    return "read" if task.records else "without annotations"


def why_nothing(fates: Counter) -> str:
    tasks = sum(fates.values())
    if not tasks:
        return "it holds no tasks"
    return f"of its {tasks} {'task' if tasks == 1 else 'tasks'}, " + ", ".join(f"{n} {fate}" for fate, n in fates.items() if n)


def current_records(file: str, article_id: str, tasks: list[TaskOutcome], article: dict | None, report: Report, carry: bool) -> list[AnnotationRecord]:
    """The records that stand for an article in one export; stale tasks are superseded, carried or refused.

    A current task that someone has submitted supersedes the article's stale tasks. Otherwise the
    stale tasks' labels are carried to the corpus text when every span can be; when some cannot,
    that is an error unless the article has been pushed again (a current task awaits annotation).
    """
    current = [t for t in tasks if t.current]
    records = [r for t in current for r in t.records]
    for task in tasks:
        if task.current is None:
            report.add(Problem("unknown-article", file, f"article {article_id!r} is not in the corpus", task=task.task_id, pointer=f"{task.pointer}/data/article_id"))
    stale = [t for t in tasks if t.current is False]
    submitted = any(not r.cancelled for r in records)
    if not stale:
        return records
    if submitted or (current and not carry):
        for task in stale:
            report.add(Problem("stale-task-superseded", file, f"article {article_id!r} changed after this task was exported ({stale_difference(task.seen, article)}); "
                               f"task {current[0].task_id} of the same export has the current text", task=task.task_id, pointer=f"{task.pointer}/data"))
        return records
    if not carry:
        for task in stale:
            report.add(Problem("stale-task", file, f"article {article_id!r} changed after this task was exported: {stale_difference(task.seen, article)}; "
                               "carrying labels forward is switched off (corpus/release.json), so push it again and re-annotate",
                               task=task.task_id, pointer=f"{task.pointer}/data"))
        return records
    carried, lost = [], []
    changes = [(task, TaskChange.between(task.seen, article)) for task in stale]
    for task, change in changes:
        for record in task.records:
            moved, lost_spans = change.carry(record)
            carried.append(moved)
            lost.extend((task, lost_span) for lost_span in lost_spans)
    if not lost:
        for task, change in changes:
            spans = sum(len(r.entities) + len(r.title_entities) for r in task.records)
            report.add(Problem("carried-forward", file, f"article {article_id!r} changed after this task was exported; its {spans} spans and its topics "
                               f"are carried to the corpus text through {change.describe()}", task=task.task_id, pointer=f"{task.pointer}/data"))
        return records + carried
    if current:
        for task in stale:
            report.add(Problem("stale-task-superseded", file, f"article {article_id!r} changed after this task was exported and {len(lost)} of its spans "
                               f"touch the edits; task {current[0].task_id} of the same export has the current text and awaits annotation", task=task.task_id, pointer=f"{task.pointer}/data"))
        return records
    by_span: dict[tuple, list] = {}
    for task, lost_span in lost:
        by_span.setdefault((task.task_id, task.pointer, lost_span.part, lost_span.span, lost_span.edit), []).append(lost_span.annotation_id)
    for (task_id, pointer, part, span, edit), annotation_ids in by_span.items():
        report.add(Problem("span-not-carried", file, f"span {span.start}-{span.end} {span.text!r} ({span.label}) of annotation {', '.join(map(str, annotation_ids))} "
                           f"touches the edit at {edit.describe()}, so it cannot be carried to the corpus text; "
                           "`newscorpus studio push` sends the article again with the spans that can be carried as a prediction", task=task_id, pointer=f"{pointer}/data/{part}"))
    return records


def is_current(task: dict, digest: ArticleDigest) -> bool:
    data = task["data"]
    return text_digest(data["text"]) == digest.text and ("title" not in data or text_digest(data["title"]) == digest.title)
