"""Which task of which export is current for each article, and the records of the current ones."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .. import progress
from ..corpus import articles_by_id, text_digest
from ..layout import Layout
from ..problems import Problem, Report
from ..schemas import json_pointer
from ..taxonomy import Taxonomy
from .carry import TaskChange, stale_difference
from .checks import ExportTasks, checked_tasks, split_export
from .reading import TaskReader
from .records import AnnotationRecord, ArticleDigest, is_review_task


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
    pushed_again: bool = False  # a newer export has a task with the corpus's text that awaits annotation


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

    An older export's tasks for an article that a newer export has work on are superseded whole:
    Label Studio exports are snapshots of the project, so the newest work is the truth. A task with no
    annotation (none submitted, none cancelled) is work still to be done, not work: it supersedes
    nothing, so pushing the corpus to a fresh project and pulling it at once loses nothing. Review tasks
    (`studio review`) supersede only review tasks: a review never erases the annotations it
    adjudicates, so an article can come twice, once for each. Each task is decoded, checked and
    reduced to plain records on its own, and an article is given as soon as its last task in the
    file has passed (a quick pass over the file finds where that is), so the records of a whole
    export are never held at once. With a pool of workers, they decode and check the tasks
    (checked_tasks) while this process reads the ones before.
    """
    schema_path = layout.schema_path("labelstudio-export.schema.json")
    claimed: set[tuple[str, bool]] = set()  # (article id, review task?) of newer exports
    awaiting: set[tuple[str, bool]] = set()  # articles a newer export has a current task of, not annotated yet
    for path in reversed(layout.exports() if exports is None else exports):
        file = layout.relative(path)
        left_out: Counter = Counter()
        # its own generator, so nothing of this file (a task's bytes hold the whole file) is alive while the next is read
        given = yield from export_articles(path, file, taxonomy, corpus, report, schema_path, claimed, awaiting, left_out, pool)
        if given is not None:
            claimed.update(given)
            yield ExportRead(file, left_out)


def export_articles(path: Path, file: str, taxonomy: Taxonomy, corpus: dict[str, ArticleDigest], report: Report, schema_path: Path,
                    claimed: set[tuple[str, bool]], awaiting: set[tuple[str, bool]], left_out: Counter, pool) -> Iterator[ArticleTasks]:
    """The articles of one export that newer ones do not claim; returns the articles that have an
    annotation here (they supersede older exports), or None when the file cannot be read as an export.
    Adds to `awaiting` the articles that have a current task here and no annotation: pushed again."""
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
            if AT.search(item):  # a cheap look at the bytes first: most tasks hold no "@"
                reader.note_emails(task, export.place(index))
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
                    article = open_articles[key] = ArticleTasks(file, article_id, key[1], index, [], key in awaiting)
                if records:
                    given.add(key)
                else:
                    report.counts[f"tasks {PENDING}"] += 1
                article.tasks.append(TaskOutcome(pointer, task["id"], current, records, seen))
        done = ends.get(index)
        if done is not None:
            read.add(done)
            if done in open_articles:
                article = open_articles.pop(done)
                if done not in given and any(t.current for t in article.tasks):
                    awaiting.add(done)
                yield article
    report.extend(reader.conversion_problems())
    return given


SUPERSEDED = "superseded by a newer export"
AT = re.compile(rb"@")
PENDING = "awaiting annotation"  # work to do, nothing lost: counted in the summary line, never a warning


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
        records = current_records(article.file, article.article_id, article.tasks, corpus_article, problems, carry, article.pushed_again)
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
        if not contributed and set(fates) != {PENDING}:  # one warning per file: this one counts the superseded tasks too
            report.add(Problem("export-contributes-nothing", file, "no annotation of this export reaches a release: " + why_nothing(fates)))
        elif left_out[SUPERSEDED]:
            report.add(Problem("annotation-superseded", file, f"{left_out[SUPERSEDED]} tasks are superseded by newer exports"))
        said, stale, contributed = [], [], 0


def task_fate(task: TaskOutcome) -> str:
    if task.current is None:
        return "for an article not in the corpus"
    if task.current is False:
        return "stale"
    return "read" if task.records else PENDING


def why_nothing(fates: Counter) -> str:
    tasks = sum(fates.values())
    if not tasks:
        return "it holds no tasks"
    return f"of its {tasks} {'task' if tasks == 1 else 'tasks'}, " + ", ".join(f"{n} {fate}" for fate, n in fates.items() if n)


def current_records(file: str, article_id: str, tasks: list[TaskOutcome], article: dict | None, report: Report, carry: bool,
                    pushed_again: bool = False) -> list[AnnotationRecord]:
    """The records that stand for an article in one export; stale tasks are superseded, carried or refused.

    A current task that someone has submitted supersedes the article's stale tasks. Otherwise the
    stale tasks' labels are carried to the corpus text when every span can be; when some cannot,
    that is an error unless the article has been pushed again (a current task awaits annotation, in
    this export or, `pushed_again`, in a newer one).
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
    awaiting = f"task {current[0].task_id} of the same export has the current text" if current else \
        "a newer export has a task with the current text" if pushed_again else None
    if submitted or (awaiting and not carry):
        for task in stale:
            report.add(Problem("stale-task-superseded", file, f"article {article_id!r} changed after this task was exported ({stale_difference(task.seen, article)}); "
                               + awaiting, task=task.task_id, pointer=f"{task.pointer}/data"))
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
    if awaiting:
        for task in stale:
            report.add(Problem("stale-task-superseded", file, f"article {article_id!r} changed after this task was exported and {len(lost)} of its spans "
                               f"touch the edits; {awaiting} and awaits annotation", task=task.task_id, pointer=f"{task.pointer}/data"))
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
