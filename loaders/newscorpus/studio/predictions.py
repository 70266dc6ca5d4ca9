"""Predictions: labels offered to annotators in Label Studio, never labels of a release.

Three sources share one conversion to Label Studio results (`prediction_results`): the corpus's
own gold (`GoldLexicon`), a model's output in a JSONL file (`read_prediction_file`), and the union
of annotators' labels that a review task starts from (`studio review`).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from ..corpus import iter_shard
from ..exports.records import Span
from ..layout import Layout
from ..problems import Problem
from ..schemas import SchemaCheck
from ..taxonomy import Taxonomy

GOLD_MODEL_VERSION = "newscorpus-gold"
PARTS = ("text", "title")


@dataclass(frozen=True)
class PredictedSpan:
    """A span offered to annotators, on the article's text or title, with how sure its source is."""

    part: str
    span: Span
    score: float | None = None
    note: str | None = None  # shown in the region's meta in Label Studio (e.g. the votes behind it)
    link: str | None = None  # its entity link (taxonomy.links), on a span of the article text


def region_id(part: str, span: Span) -> str:
    """Stable ids: the same span predicted twice is the same region."""
    key = f"{part}\x00{span.start}\x00{span.end}\x00{span.label}".encode()
    return hashlib.blake2b(key, digest_size=5).hexdigest()


def span_result(taxonomy: Taxonomy, predicted: PredictedSpan) -> dict:
    control, obj = (
        (taxonomy.entity_control, taxonomy.entity_object) if predicted.part == "text" else (taxonomy.title_control, taxonomy.title_object)
    )
    span = predicted.span
    result = {"id": region_id(predicted.part, span), "from_name": control, "to_name": obj, "type": "labels",
              "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]}}
    if predicted.score is not None:
        result["score"] = round(predicted.score, 4)
    if predicted.note:
        result["meta"] = {"text": [predicted.note]}
    return result


def link_result(taxonomy: Taxonomy, predicted: PredictedSpan) -> dict:
    """The per-region TextArea result of a span's link: Label Studio gives it the span's region id, start and end."""
    span = predicted.span
    return {"id": region_id(predicted.part, span), "from_name": taxonomy.links.control, "to_name": taxonomy.entity_object, "type": "textarea",
            "value": {"start": span.start, "end": span.end, "text": [predicted.link]}}


def topics_result(taxonomy: Taxonomy, topics: Iterable[str], note: str | None = None) -> dict:
    result = {"id": "topics", "from_name": taxonomy.topic_control, "to_name": taxonomy.topic_object, "type": "choices",
              "value": {"choices": list(topics)}}
    if note:
        result["meta"] = {"text": [note]}
    return result


def prediction_results(taxonomy: Taxonomy, spans: Iterable[PredictedSpan] = (), topics: Iterable[str] = (), topics_note: str | None = None,
                       relations: Iterable = ()) -> list[dict]:
    """Spans, their links, topics and relations (between text spans) as the `result` of a Label Studio
    prediction: the one place this conversion lives.

    Title spans are dropped when the taxonomy labels no title (there is no control to put them on),
    links when it has no links.
    """
    spans = [s for s in spans if s.part == "text" or taxonomy.title_control]
    results = [span_result(taxonomy, s) for s in spans]
    if taxonomy.links:
        results += [link_result(taxonomy, s) for s in spans if s.link and s.part == "text"]
    topics = sorted(set(topics))
    if topics:
        results.append(topics_result(taxonomy, topics, topics_note))
    results += [{"from_id": region_id("text", r.head), "to_id": region_id("text", r.tail), "type": "relation",
                 "direction": "right", "labels": [r.label]} for r in relations]
    return results


def prediction(model_version: str, results: list[dict]) -> dict:
    """A prediction for `projects.import_tasks`; its score is the mean of its regions' scores, if they have any."""
    scores = [r["score"] for r in results if "score" in r]
    found = {"model_version": model_version, "result": results}
    if scores:
        found["score"] = round(sum(scores) / len(scores), 4)
    return found


def is_word_character(character: str) -> bool:
    return character.isalnum() or character == "_"


def whole_word(text: str, start: int, end: int) -> bool:
    """The match neither starts nor ends inside a word ("Kabul" in "Kabulis" is not a match)."""
    before = start > 0 and is_word_character(text[start - 1]) and is_word_character(text[start])
    after = end < len(text) and is_word_character(text[end]) and is_word_character(text[end - 1])
    return not before and not after


@dataclass(frozen=True)
class GoldDocument:
    """An annotated article's texts and its resolved gold spans."""

    article_id: str
    text: str
    title: str
    entities: list[Span]
    title_entities: list[Span]
    links: dict[Span, str] = field(default_factory=dict)  # the gold links of its text spans


class GoldLexicon:
    """Every surface form that gold labels, the label gold gives it most often, and a score.

    The score is the share of the form's whole-word occurrences in annotated texts that gold labels
    with that label: a form gold labels inconsistently, or often leaves unlabelled ("Post" the
    newspaper vs. "post" the verb is told apart by case; "Afghan" inside an unlabelled stretch is
    not), scores low. Forms are matched case-sensitively with an Aho-Corasick automaton. A form's
    link is the one that a strict majority of its gold text spans with that label have.
    """

    def __init__(self, labels: dict[str, tuple[str, float]], links: dict[str, str] | None = None):
        self.labels = labels
        self.links = links or {}
        self.automaton = automaton(labels)

    @classmethod
    def from_gold(cls, documents: Callable[[], Iterable[GoldDocument]], label_order: list[str]) -> "GoldLexicon":
        """`documents` is called twice: once to count labels per form, once to count occurrences."""
        rank = {label: i for i, label in enumerate(label_order)}
        votes: dict[str, Counter] = defaultdict(Counter)
        for document in documents():
            for span in (*document.entities, *document.title_entities):
                if span.text and span.text == span.text.strip():
                    votes[span.text][span.label] += 1
        best = {form: min(counts, key=lambda label: (-counts[label], rank.get(label, len(rank)))) for form, counts in votes.items()}
        finder = automaton(best)
        seen, labelled = Counter(), Counter()
        link_votes: dict[str, Counter] = defaultdict(Counter)
        for document in documents():
            for span in document.entities:
                if best.get(span.text) == span.label:
                    link_votes[span.text][document.links.get(span)] += 1
            for text, spans in ((document.text, document.entities), (document.title, document.title_entities)):
                gold = {(s.start, s.end, s.label) for s in spans}
                for start, end, form in matches(finder, text):
                    seen[form] += 1
                    labelled[form] += (start, end, best[form]) in gold
        links = {form: link for form, counts in link_votes.items() for link, n in counts.most_common(1) if link and 2 * n > counts.total()}
        return cls({form: (label, labelled[form] / seen[form]) for form, label in best.items() if seen[form]}, links)

    def predict(self, text: str, part: str = "text", min_score: float = 0.0) -> list[PredictedSpan]:
        found = []
        for start, end, form in matches(self.automaton, text):
            label, score = self.labels[form]
            if score >= min_score:
                found.append(PredictedSpan(part, Span(start, end, label, form), score, link=self.links.get(form) if part == "text" else None))
        return sorted(found, key=lambda p: (p.span.start, -p.span.end))


def automaton(forms: Iterable[str]) -> ahocorasick.Automaton:
    found = ahocorasick.Automaton()
    for form in forms:
        found.add_word(form, form)
    if len(found):
        found.make_automaton()
    return found


def matches(finder: ahocorasick.Automaton, text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, form) of every whole-word occurrence of every form, overlapping ones included."""
    if not len(finder) or not text:
        return
    for last, form in finder.iter(text):
        start, end = last - len(form) + 1, last + 1
        if whole_word(text, start, end):
            yield start, end, form


@dataclass(frozen=True)
class FilePrediction:
    article_id: str
    model_version: str
    predicted: PredictedSpan
    line: int


def read_prediction_file(layout: Layout, path: Path, taxonomy: Taxonomy) -> tuple[dict[str, list[FilePrediction]], list[Problem]]:
    """A model's predictions (JSONL, schema/predictions.schema.json) by article id, and what is wrong
    with the lines that fail the schema or name a label the taxonomy lacks. Offsets are checked
    against the articles by `check_against_article`."""
    file = layout.relative(path)
    schema = SchemaCheck.of_corpus(layout, "predictions.schema.json")
    labels = set(taxonomy.entity_names)
    found: dict[str, list[FilePrediction]] = defaultdict(list)
    problems: list[Problem] = []
    for line, record, problem in iter_shard(path, file):
        if problem:
            problems.append(problem)
            continue
        errors = schema.errors(record)
        if errors:
            problems.extend(Problem("schema-error", file, message, line=line, pointer=pointer) for pointer, message in errors)
            continue
        part = record.get("part", "text")
        if record["label"] not in labels:
            problems.append(Problem("unknown-label", file, f"label {record['label']!r} is not in the taxonomy", line=line, pointer="/label"))
            continue
        if part == "title" and not taxonomy.title_control:
            problems.append(Problem("unknown-control", file, "the taxonomy labels no titles (entities.title_control)", line=line, pointer="/part"))
            continue
        if record["start"] >= record["end"]:
            problems.append(Problem("span-inverted", file, f"start {record['start']} is not before end {record['end']}", line=line, pointer="/start"))
            continue
        span = Span(record["start"], record["end"], record["label"], record.get("text", ""))
        found[record["article_id"]].append(FilePrediction(record["article_id"], record["model_version"], PredictedSpan(part, span, record.get("score")), line))
    return dict(found), problems


def check_against_article(predictions: list[FilePrediction], article: dict, file: str) -> tuple[list[FilePrediction], list[Problem]]:
    """The predictions with their text taken from the article; a span past the end or a `text` that
    is not what the offsets hold is a problem."""
    kept, problems = [], []
    for p in predictions:
        part, span = p.predicted.part, p.predicted.span
        text = article[part]
        if span.end > len(text):
            problems.append(Problem("span-out-of-range", file, f"end {span.end} is past the end of the {part} of {p.article_id!r} ({len(text)} characters)", line=p.line, pointer="/end"))
        elif span.text and text[span.start : span.end] != span.text:
            problems.append(Problem("span-text-mismatch", file, f"text at {span.start}-{span.end} of {p.article_id!r} is {text[span.start:span.end][:60]!r}, not {span.text[:60]!r}", line=p.line, pointer="/text"))
        else:
            exact = Span(span.start, span.end, span.label, text[span.start : span.end])
            kept.append(FilePrediction(p.article_id, p.model_version, PredictedSpan(part, exact, p.predicted.score), p.line))
    return kept, problems


def file_predictions_by_version(predictions: list[FilePrediction]) -> dict[str, list[PredictedSpan]]:
    """One Label Studio prediction per model version: a task can carry several models' guesses."""
    by_version: dict[str, list[PredictedSpan]] = defaultdict(list)
    for p in predictions:
        by_version[p.model_version].append(p.predicted)
    return dict(sorted(by_version.items()))
