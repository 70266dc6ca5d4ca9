"""One task's annotations read into AnnotationRecords.

Offsets come back in code points. Older Label Studio versions stored UTF-16 units: that is proven
per span (the code-point slice differs from value.text, the UTF-16 slice matches) and converted,
with a warning. Nothing is ever re-aligned by searching the text.
"""

from __future__ import annotations

from collections import Counter
from itertools import product

from ..annotators import annotator_identity, email_places
from ..problems import Problem
from ..taxonomy import Taxonomy
from .records import AnnotationRecord, Relation, ReviewBasis, Span, is_review_task, parent_prediction, span_order


def utf16_to_codepoints(text: str, units: int) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "ignore"))


def collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


CONVERSION_MESSAGES = {
    "completions-read": "{n} tasks keep their annotations under `completions` (Label Studio 0.x); read as annotations (first here)",
    "annotation-id-derived": "{n} annotations have no id; each gets task id x 1000 + its position from 1, as Label Studio 0.x numbered them (first here)",
    "annotator-missing": "{n} annotations name no annotator (no completed_by); each counts as an annotator of its own (first here)",
    "annotator-email": "{n} emails of annotators are in this export (first here); none reaches a release, but the repository shows them: "
                       "`newscorpus clean-identities` keeps each annotator as a Label Studio user id and removes emails and names",
}


class TaskReader:
    """Turns one task's annotations into AnnotationRecords, reporting what it cannot take."""

    def __init__(self, taxonomy: Taxonomy, file: str):
        self.taxonomy = taxonomy
        self.file = file
        self.entity_labels = {name: name for name in taxonomy.entity_names}  # spans keep the taxonomy's one str of each label
        self.topic_labels = frozenset(taxonomy.topic_names)
        self.relation_labels = {label.name: label for label in taxonomy.relation_labels}
        self.links = taxonomy.links
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
                reviewed=ReviewBasis(data["review"], where) if review else None,
            )
            regions: dict[str, tuple[str, list[Span]]] = {}
            for r, result in enumerate(annotation["result"]):
                self._read_result(result, where, r, task_id, texts, record, problems, regions)
            if self.relation_labels:
                self._read_relations(annotation["result"], f"{where}/result", task_id, regions, record, problems)
            if self.links:
                self._read_links(annotation["result"], f"{where}/result", task_id, regions, record, problems)
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

    def note_emails(self, task: dict, place: tuple) -> None:
        """Counts the emails of a task that `without_identities` would remove; reported as a conversion is."""
        for pointer in email_places(task, place):
            self._convert("annotator-email", task["id"], pointer)

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
        elif kind == "textarea" and self.links and names[0] == self.links.control:
            return  # an entity link: read once every span of the annotation is known
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

    def _read_links(self, results, pointer, task_id, regions, record, problems) -> None:
        """Entity links, once every span of the annotation is known: Label Studio's per-region
        TextArea gives its result the `id` of the span's region, and that span's start and end."""
        spans_by_region = {result.get("id"): result["value"] for result in results if result["type"] == "labels"}
        for r, result in enumerate(results):
            if result["type"] != "textarea" or result.get("from_name") != self.links.control:
                continue
            region_id, value = result.get("id"), result["value"]

            def report(code, message, field=""):
                problems.append(Problem(code, self.file, f"link of region {region_id!r} in annotation {record.annotation_id}: {message}",
                                        task=task_id, pointer=f"{pointer}/{r}{field}"))

            target, spans = regions.get(region_id, (None, [])) if region_id is not None else (None, [])
            if target is None:
                report("link-unknown-span", "its id names no span result of this annotation", "/id")
                continue
            if target != "text":
                report("link-unknown-span", f"its id names a span of the {target}; links are given to spans of the article text", "/id")
                continue
            if not spans:
                report("link-unknown-span", "its id names a span that was dropped for its own error", "/id")
                continue
            span_value = spans_by_region[region_id]
            moved = [key for key in ("start", "end") if key in value and value[key] != span_value[key]]
            if moved:
                report("link-unknown-span", f"its {' and '.join(moved)} ({', '.join(str(value[k]) for k in moved)}) are not its span's "
                       f"({', '.join(str(span_value[k]) for k in moved)})", "/value")
                continue
            links = value["text"]
            if not links:
                continue  # emptied: not linked
            if len(links) > 1:
                report("link-several", f"the span is given {len(links)} links ({', '.join(map(repr, links[:3]))}); give one", "/value/text")
                continue
            if any(span in record.links for span in spans):
                report("link-several", "an earlier result of this annotation already links the span; give one", "/id")
                continue
            if not self.links.accepts(links[0]):
                report("link-pattern", f"{links[0][:60]!r} is not a {self.links.kb} id (the taxonomy's pattern is {self.links.pattern})", "/value/text/0")
                continue
            for span in spans:
                record.links[span] = links[0]

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


