"""An export's tasks split out of the file undecoded, then decoded and checked one by one (on workers
when there are any), so a file is never held as Python objects whole."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from ..files import BOM, EXPORT_LIMIT, TooDeep, decode_bytes, duplicate_key, duplicate_key_problem, is_utf8, read_bounded
from ..problems import Problem
from ..schemas import SchemaCheck, json_pointer
from ..workers import WorkerPool


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


