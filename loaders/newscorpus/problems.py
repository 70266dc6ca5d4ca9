"""The catalogue of everything newscorpus can find wrong with its inputs, and the report that holds it.

Each problem has a stable code (tests and CI assert codes, not prose), a severity, the file, the
place in it (JSONL line or Label Studio task id, plus a JSON pointer) and a message. A report is
data; rendering it as text, JSON or GitHub workflow annotations is the caller's choice.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

# code -> (severity, title). A warning never fails validation; it names a conversion or a drop.
CATALOGUE: dict[str, tuple[Severity, str]] = {
    "file-unreadable": ("error", "The file cannot be read"),
    "not-a-file": ("error", "The path is not a regular file (a FIFO, a device, a folder)"),
    "file-too-large": ("error", "The file or line is larger than newscorpus reads"),
    "duplicate-key": ("error", "A JSON object has the same key twice"),
    "number-error": ("error", "A number is not a whole number where one is needed (3.0, 1e3, past 64 bits)"),
    "encoding-error": ("error", "The file is not valid UTF-8"),
    "bom-error": ("error", "The file starts with a byte order mark"),
    "json-error": ("error", "The text is not valid JSON"),
    "schema-error": ("error", "The record does not match its JSON Schema"),
    "schema-invalid": ("error", "A JSON Schema file of the corpus is not a valid Draft 2020-12 schema; nothing is checked against it"),
    "taxonomy-error": ("error", "The taxonomy is invalid"),
    "duplicate-label": ("error", "A label appears twice in the taxonomy"),
    "duplicate-name": ("error", "Two controls or objects of the taxonomy share a name"),
    "config-error": ("error", "A settings file is invalid"),
    "path-error": ("error", "A path named on the command line does not exist or lies outside the corpus"),
    "duplicate-id": ("error", "An article id is used twice"),
    "duplicate-text": ("error", "An article repeats the text of an article already in the corpus"),
    "field-missing": ("error", "A record or task lacks a field an article needs (map it with an option)"),
    "no-article-text": ("error", "No article text could be extracted from the page"),
    "export-shape": ("error", "The file is not a Label Studio export shape newscorpus can import"),
    "text-not-exact": ("error", "Annotated text has \\r or is not NFC: importing it as is would break the corpus, converting it would move offsets"),
    "settings-default": ("warning", "A settings file is missing; newscorpus's defaults are used"),
    "text-not-nfc": ("error", "Text is not Unicode NFC"),
    "unknown-language": ("error", "An article's language is not a BCP 47 tag whose subtags the IANA registry assigns"),
    "language-script-mismatch": ("warning", "Most of an article's letters are in scripts its declared language is not written in"),
    "unknown-article": ("error", "A task names an article that is not in the corpus"),
    "stale-task": ("error", "A task's text differs from the corpus text and carrying labels forward is switched off"),
    "span-not-carried": ("error", "A span of a stale task touches an edit of its article and cannot be carried to the corpus text"),
    "unknown-control": ("error", "A result names a control or object the taxonomy does not define"),
    "unknown-label": ("error", "A span label is not in the taxonomy"),
    "unknown-topic": ("error", "A topic is not in the taxonomy"),
    "unknown-relation-label": ("error", "A relation label is not in the taxonomy's relations"),
    "relation-unlabeled": ("error", "A relation carries no label"),
    "relation-unknown-span": ("error", "A relation's from_id or to_id is not a kept span of the article text in the same annotation"),
    "relation-direction": ("error", "A relation with a directed label points both ways ('bi')"),
    "link-pattern": ("error", "An entity link does not match the taxonomy's links pattern"),
    "link-unknown-span": ("error", "An entity link's id is not a kept span of the article text in the same annotation, or its offsets are not that span's"),
    "link-several": ("error", "A span is given more than one entity link"),
    "span-inverted": ("error", "A span does not have start < end"),
    "span-out-of-range": ("error", "A span lies outside the text"),
    "span-text-mismatch": ("error", "A span's value.text differs from the text at its offsets"),
    "utf16-offsets": ("warning", "Offsets are in UTF-16 units (older Label Studio); the build converts them to code points"),
    "value-text-missing": ("warning", "A span has no value.text; its offsets are trusted as code points"),
    "result-ignored": ("warning", "A result type newscorpus does not compile (textarea, a relation when the taxonomy has no relations, ...) is left out of the release"),
    "carried-forward": ("warning", "An article changed after its task was exported; every span was carried to the corpus text"),
    "stale-task-superseded": ("warning", "A stale task is ignored because the same export has a current task for the article"),
    "annotation-superseded": ("warning", "An older export's tasks for an article are replaced by a newer export"),
    "prediction-unknown-article": ("error", "A prediction names an article that is not in the corpus"),
    "completions-conflict": ("error", "A task has both `annotations` and `completions` (Label Studio 0.x), and they differ"),
    "completions-read": ("warning", "Label Studio 0.x `completions` are read as annotations"),
    "annotation-id-derived": ("warning", "An annotation without an id gets task id x 1000 + its position, as Label Studio 0.x numbered them"),
    "annotator-missing": ("warning", "An annotation names no annotator; it counts as an annotator of its own"),
    "annotator-email": ("warning", "An export holds an annotator's email (a user object, a username); `newscorpus clean-identities` removes them"),
    "review-outdated": ("warning", "A review was made from other votes than the article's annotations give now; it stays gold until the article is reviewed again"),
    "export-contributes-nothing": ("warning", "No annotation of an export reaches the release, and the message says why"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    file: str
    message: str
    line: int | None = None
    task: int | None = None
    pointer: str = ""

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code][0]

    def location(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        where += [f"task {self.task}"] if self.task is not None else []
        where += [self.pointer] if self.pointer else []
        return self.file + (f" ({', '.join(where)})" if where else "")


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def render(self, fmt: str) -> str:
        return {"text": self.render_text, "json": self.render_json, "github": self.render_github}[fmt]()

    def render_text(self) -> str:
        lines = [f"{p.severity}: {p.location()}: [{p.code}] {p.message}" for p in self.problems]
        checked = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()))
        verdict = "valid" if self.valid else "invalid"
        lines.append(f"{verdict}: {len(self.errors)} errors, {len(self.warnings)} warnings ({checked})")
        return "\n".join(lines)

    def render_json(self) -> str:
        return json.dumps(
            {
                "valid": self.valid,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "checked": dict(sorted(self.counts.items())),
                "problems": [{**asdict(p), "severity": p.severity} for p in self.problems],
            },
            ensure_ascii=False,
            indent=2,
        )

    def render_github(self) -> str:
        def escape(text: str) -> str:
            return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

        lines = []
        for p in self.problems:
            props = f"file={p.file},line={p.line or 1},title={p.code}"
            where = ", ".join(x for x in (f"task {p.task}" if p.task is not None else "", p.pointer) if x)
            lines.append(f"::{p.severity} {props}::{escape((where + ': ' if where else '') + p.message)}")
        lines.append(f"{'valid' if self.valid else 'invalid'}: {len(self.errors)} errors, {len(self.warnings)} warnings")
        return "\n".join(lines)


class InputError(Exception):
    """Raised when a command cannot go on because its inputs are invalid; carries the report."""

    def __init__(self, report: Report, what: str = "inputs are invalid"):
        super().__init__(what)
        self.report = report
        self.what = what


class CommandError(Exception):
    """A failure the user can act on (a release that exists, a server that refuses): one line, exit 1."""
