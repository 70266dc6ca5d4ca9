"""`newscorpus import`: an existing Label Studio project's export brought into the corpus.

Any shape Label Studio has written is read (1.x: a list of tasks with `annotations`; 0.x:
`completions`, a list or one task per file). Each task's text becomes an article exactly as it
was annotated; text with "\\r" or not in NFC is refused with the task named, because converting
it would move offsets. The tasks are stored under annotations/<source>/ in the 1.x shape, each
naming its article in `data.article_id`, with `data.text`/`data.title` as the corpus holds them
and each annotator as a Label Studio user id, emails and names removed (annotators.without_identities);
beside it, a hidden `.<name>.import.json` records the sha256 of the original files for audits.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

from .. import progress
from ..annotators import without_identities
from ..corpus import CorpusAppend
from ..exports.reading import TaskReader
from ..files import decode_bytes, writing
from ..layout import Layout
from ..problems import InputError, Problem, Report
from ..schemas import SchemaCheck
from ..taxonomy import load_taxonomy
from .ids import id_from_value, slug
from .records import FieldMap, article_from_record

TITLE_LENGTH = 120


@dataclass(frozen=True)
class ImportOptions:
    source: str
    id_from: str | None = None  # a data key, "task", or None: data.article_id when present, else the task id
    text_key: str = "text"
    title_key: str = "title"
    language: str = "en"


@dataclass
class ImportOutcome:
    export: Path | None  # None: the same import is already stored
    tasks: int
    added: int
    unchanged: int


def read_tasks(raw: bytes, file: str) -> tuple[list[dict], str]:
    """The tasks of one file and the shape they came in."""
    document, problem = decode_bytes(raw, file)
    if problem:
        raise InputError(Report([problem]), "nothing was imported")
    tasks = document if isinstance(document, list) else [document]
    if not tasks or not all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in tasks):
        raise InputError(Report([Problem("export-shape", file, "expected a Label Studio export: a list of tasks or one task, each an object with `data`")]), "nothing was imported")
    old = any("completions" in t for t in tasks)
    return tasks, ("0.x completions" if old else "1.x annotations") + (", one task" if isinstance(document, dict) else ", list of tasks")


def annotation_time(annotation: dict) -> datetime | None:
    """When an annotation was last saved: 1.x ISO strings, 0.x epoch seconds."""
    for key in ("updated_at", "created_at"):
        value = annotation.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, timezone.utc)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def derived_title(text: str) -> str:
    """A task without a title gets its text's first line, cut at a word to 120 characters."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    title = " ".join(first.split())
    return title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


class TaskConverter:
    """One task at a time into (article, 1.x task); annotations without an id get fresh ones."""

    def __init__(self, options: ImportOptions, first_free_id: int):
        self.options = options
        self.next_id = first_free_id
        self.fields = FieldMap()

    def article_id(self, task: dict, data: dict) -> str | None:
        by_task = f"{slug(self.options.source) or 'import'}-task-{task.get('id')}"
        if self.options.id_from == "task":
            return by_task
        key = self.options.id_from or "article_id"
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return id_from_value(str(value))
        return by_task if self.options.id_from is None else None

    def convert(self, task: dict, file: str, index: int) -> tuple[dict | None, dict | None, list[Problem]]:
        options, data = self.options, task["data"]
        task_id = task.get("id") if isinstance(task.get("id"), int) else None

        def refuse(code, message, key=""):
            return None, None, [Problem(code, file, message, task=task_id, pointer=f"/{index}/data" + (f"/{key}" if key else ""))]

        text = data.get(options.text_key)
        if not isinstance(text, str):
            return refuse("field-missing", f"no text under data.{options.text_key}; the task's data keys are {sorted(data)}; name the key with --text-key")
        title = data.get(options.title_key)
        title = title if isinstance(title, str) and title.strip() else derived_title(text)
        for key, value in ((options.text_key, text), (options.title_key, title)):
            if "\r" in value or not unicodedata.is_normalized("NFC", value):
                what = "holds \\r" if "\r" in value else "is not in Unicode NFC"
                return refuse("text-not-exact", f"the annotated text {what}; fix it in Label Studio (and re-annotate) or export it again from a clean source", key)
        article_id = self.article_id(task, data)
        if article_id is None:
            return refuse("field-missing", f"no article id under data.{options.id_from}; pass --id-from KEY or --id-from task")
        row = {**data, "id": article_id, "title": title, "text": text}
        article, _ = article_from_record(row, self.fields, source=options.source, language=options.language, license=None)
        rest = {k: v for k, v in data.items() if k not in (options.text_key, options.title_key, "article_id")}
        stored = {key: value for key, value in task.items() if key not in ("completions", "annotations", "data")}
        stored["data"] = {**rest, "article_id": article_id, "title": title, "text": text}
        stored["annotations"] = [self.annotation(a) for a in task.get("annotations", task.get("completions", [])) if isinstance(a, dict)]
        return article, without_identities(stored), []

    def annotation(self, annotation: dict) -> dict:
        if isinstance(annotation.get("id"), int):
            return annotation
        self.next_id += 1
        return {"id": self.next_id, **annotation}


def import_export(layout: Layout, paths: list[Path], options: ImportOptions) -> ImportOutcome:
    """All or nothing: every task must convert and check, or nothing is written."""
    taxonomy = load_taxonomy(layout)
    originals: list[tuple[str, bytes]] = []
    tasks: list[tuple[str, dict]] = []
    shapes = set()
    for path in sorted(p for given in paths for p in (sorted(p for p in given.glob("*.json") if not p.name.startswith(".")) if given.is_dir() else [given])):
        file = layout.relative(path)
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise InputError(Report([Problem("file-unreadable", file, err.strerror or str(err))]), "nothing was imported") from None
        file_tasks, shape = read_tasks(raw, file)
        shapes.add(shape)
        originals.append((path.name, raw))
        tasks.extend((file, task) for task in file_tasks)
    annotation_ids = [a.get("id") for _, t in tasks for a in t.get("annotations", t.get("completions", [])) if isinstance(a, dict)]
    converter = TaskConverter(options, max([i for i in annotation_ids if isinstance(i, int)], default=0))
    task_ids = [t["id"] for _, t in tasks if isinstance(t.get("id"), int)]
    next_task_id = max(task_ids, default=0)
    batch = CorpusAppend(layout, keep_identical=True)
    task_schema = SchemaCheck.of_corpus(layout, "labelstudio-export.schema.json", definition="task")
    report, stored_tasks = Report(), []
    for index, (file, task) in enumerate(progress.tracked(tasks, "importing tasks", total=len(tasks), unit="tasks")):
        if not isinstance(task.get("id"), int):  # a 0.x task file may carry no id
            next_task_id += 1
            task = {"id": next_task_id, **task}
        article, stored, problems = converter.convert(task, file, index)
        report.extend(problems)
        if article is None:
            continue
        report.extend(batch.offer(article, file, task=task["id"]))
        schema_errors = task_schema.errors(stored, prefix=(index,))
        report.extend(Problem("schema-error", file, m, task=task["id"], pointer=p) for p, m in schema_errors)
        if not schema_errors:  # the reader trusts the schema
            _, read_problems = TaskReader(taxonomy, file).read(index, stored)
            report.extend(p for p in read_problems if p.severity == "error")
        stored_tasks.append(stored)
    if not report.valid:
        raise InputError(report, "nothing was imported")
    times = [t for task in stored_tasks for a in task["annotations"] if (t := annotation_time(a))]
    stamp = max(times).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") if times else "19700101T000000Z"
    digest = hashlib.sha256(b"".join(hashlib.sha256(raw).digest() for _, raw in originals)).hexdigest()
    target = layout.annotations_dir / (slug(options.source) or "import") / f"{stamp}-{digest[:12]}.json"
    body = orjson.dumps(stored_tasks, option=orjson.OPT_INDENT_2) + b"\n"
    unchanged = target.exists() and target.read_bytes() == body
    written = {}
    if not unchanged:
        audit = {"imported": [{"file": name, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)} for name, raw in originals],
                 "shapes": sorted(shapes), "source": options.source, "id_from": options.id_from or "article_id, else task",
                 "text_key": options.text_key, "title_key": options.title_key}
        written = {target: body, target.with_name(f".{target.stem}.import.json"): orjson.dumps(audit, option=orjson.OPT_INDENT_2) + b"\n"}
    with writing(layout.root, "the articles and the export"):
        batch.write(also=written)  # articles, export and audit together, or none of them
    return ImportOutcome(None if unchanged else target, len(stored_tasks), batch.added, batch.unchanged)
