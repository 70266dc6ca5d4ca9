"""What changed between two releases, read from their Parquet files: articles, and labels down to
each label's spans, relations and topics, and the annotators' pseudonyms.

A first pass hashes every article's text and labels; only the articles whose labels differ are
then compared span by span, so two large releases that mostly agree are never held in memory.
Labels are compared by name, so a release whose taxonomy gained a label still compares.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow

from ..problems import CommandError
from .manifest import config_batches, config_columns, config_features, read_manifest

SPAN_CHANGES = ("added", "removed", "relabelled_from", "relabelled_to", "boundary_moved")
PARTS = (("title", "title_entities"), ("text", "entities"))
LINK_CHANGES = ("linked", "unlinked", "relinked")


def article_fingerprints(release_dir: Path) -> dict[str, tuple[str, str]]:
    """article id -> (hash of its text and title, hash of its gold labels), streamed from the files."""
    found: dict[str, tuple[str, str]] = {}
    for batch in config_batches(release_dir, "articles", ["id", "title", "text"]):
        for article_id, title, text in zip(*(batch.column(c).to_pylist() for c in ("id", "title", "text"))):
            found[article_id] = (hashlib.blake2b(f"{title}\n{text}".encode(), digest_size=12).hexdigest(), "")
    # relations are labels too; a release without the column and a row without relations hash alike
    for row in label_rows(release_dir):
        entities = [unlinked_as_before(e) for e in row["entities"]]
        labels = orjson.dumps([entities, row["title_entities"], row["topics"]] + ([row["relations"]] if row.get("relations") else []))
        found[row["id"]] = (found[row["id"]][0], hashlib.blake2b(labels, digest_size=12).hexdigest())
    return found


def unlinked_as_before(entity: dict) -> dict:
    """A span without a link hashes as it did before releases had links: adding links changes only the linked spans."""
    if "kb_id" in entity and entity["kb_id"] is None:
        return {k: v for k, v in entity.items() if k != "kb_id"}
    return entity


def label_rows(release_dir: Path) -> Iterator[dict]:
    """`documents` rows with their labels (ids, as stored)."""
    columns = ["id", "title", "text", "entities", "title_entities", "topics"] + \
        (["relations"] if "relations" in config_columns(release_dir, "documents") else [])
    for batch in config_batches(release_dir, "documents", columns):
        yield from batch.to_pylist()


@dataclass
class NamedLabels:
    """One article's labels with names instead of ClassLabel ids."""

    text: str  # the title and text, to know whether offsets can be compared
    spans: dict[str, list[tuple[int, int, str, str]]]  # part -> (start, end, label, text)
    relations: list[tuple[int, int, str]]  # head, tail (indexes into spans["text"]), label
    topics: set[str]
    links: dict[tuple[int, int, str], str] = field(default_factory=dict)  # (start, end, label) of a linked text span -> its kb_id


class LabelNames:
    def __init__(self, release_dir: Path):
        features = config_features(release_dir, "documents")  # none when no article is annotated
        self.entities = features["entities"].feature["label"].names if features else []
        self.topics = features["topics"].feature.names if features else []
        self.relations = features["relations"].feature["label"].names if "relations" in features else []

    def named(self, row: dict) -> NamedLabels:
        spans = {part: [(e["start"], e["end"], self.entities[e["label"]], e["text"]) for e in row[column]] for part, column in PARTS}
        links = {(e["start"], e["end"], self.entities[e["label"]]): e["kb_id"] for e in row["entities"] if e.get("kb_id") is not None}
        return NamedLabels(f"{row['title']}\n{row['text']}", spans, [(r["head"], r["tail"], self.relations[r["label"]]) for r in row.get("relations") or []],
                           {self.topics[t] for t in row["topics"]}, links)


@dataclass
class LabelChanges:
    """Counts by label over every article, and the detail of the articles in both releases."""

    spans: defaultdict = field(default_factory=lambda: defaultdict(Counter))  # label -> change -> n
    relabellings: Counter = field(default_factory=Counter)  # (from, to) -> n
    relations: defaultdict = field(default_factory=lambda: defaultdict(Counter))  # label -> added/removed -> n
    topics: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    links: defaultdict = field(default_factory=lambda: defaultdict(Counter))  # label -> linked/unlinked/relinked -> n
    keep_detail: bool = False
    articles: dict = field(default_factory=dict)  # id -> detail, when kept

    def whole_article(self, labels: NamedLabels, change: str) -> None:
        """Every label of an article that only one release has."""
        for spans in labels.spans.values():
            for span in spans:
                self.spans[span[2]][change] += 1
        for relation in labels.relations:
            self.relations[relation[2]][change] += 1
        for topic in labels.topics:
            self.topics[topic][change] += 1

    def compare(self, article_id: str, old: NamedLabels, new: NamedLabels) -> None:
        same_text = old.text == new.text
        detail = {"spans": {change: [] for change in ("added", "removed", "relabelled", "boundary_moved")}}
        for part, _ in PARTS:
            self.compare_spans(part, old.spans[part], new.spans[part], same_text, detail["spans"])
        detail["relations"] = self.compare_relations(old, new, same_text)
        if same_text and (old.links or new.links):
            detail["links"] = self.compare_links(old, new)
        detail["topics"] = {"added": sorted(new.topics - old.topics), "removed": sorted(old.topics - new.topics)}
        for change, topics in detail["topics"].items():
            for topic in topics:
                self.topics[topic][change] += 1
        if self.keep_detail:
            self.articles[article_id] = detail

    def compare_spans(self, part: str, old: list, new: list, same_text: bool, detail: dict) -> None:
        """Equal spans first, then relabelled ones (same place), then moved boundaries (same label,
        overlapping), the rest added or removed. Where the text changed, offsets mean nothing across
        releases: spans are matched by their text and label, and the rest are added or removed."""
        key = (lambda s: s[:3]) if same_text else (lambda s: (s[3], s[2]))
        common = Counter(map(key, old)) & Counter(map(key, new))
        old_rest, new_rest = unmatched(old, key, common), unmatched(new, key, common)
        if same_text:
            for o in list(old_rest):
                n = next((n for n in new_rest if n[:2] == o[:2]), None)
                if n is not None:
                    old_rest.remove(o), new_rest.remove(n)
                    self.spans[o[2]]["relabelled_from"] += 1
                    self.spans[n[2]]["relabelled_to"] += 1
                    self.relabellings[(o[2], n[2])] += 1
                    detail["relabelled"].append({"part": part, "start": o[0], "end": o[1], "text": o[3], "from": o[2], "to": n[2]})
            for o in list(old_rest):
                n = next((n for n in new_rest if n[2] == o[2] and n[0] < o[1] and o[0] < n[1]), None)
                if n is not None:
                    old_rest.remove(o), new_rest.remove(n)
                    self.spans[o[2]]["boundary_moved"] += 1
                    detail["boundary_moved"].append({"part": part, "from": span_detail(o), "to": span_detail(n)})
        for change, spans in (("added", new_rest), ("removed", old_rest)):
            for s in spans:
                self.spans[s[2]][change] += 1
                detail[change].append({"part": part, **span_detail(s)})

    def compare_relations(self, old: NamedLabels, new: NamedLabels, same_text: bool) -> dict:
        """A relation is its two spans (by place, or by text where the text changed) and its label."""
        place = (lambda s: s[:3]) if same_text else (lambda s: (s[3], s[2]))

        def described(labels: NamedLabels) -> tuple[Counter, dict]:
            spans = labels.spans["text"]
            return Counter((place(spans[h]), place(spans[t]), label) for h, t, label in labels.relations), {place(s): s for s in spans}

        (left, old_spans), (right, new_spans) = described(old), described(new)
        detail = {}
        for change, relations, spans in (("added", right - left, new_spans), ("removed", left - right, old_spans)):
            detail[change] = []
            for (head, tail, label), n in sorted(relations.items()):
                self.relations[label][change] += n
                detail[change] += [{"label": label, "head": span_detail(spans[head]), "tail": span_detail(spans[tail])}] * n
        return detail

    def compare_links(self, old: NamedLabels, new: NamedLabels) -> list[dict]:
        """The links of the spans both releases have (by place and label) that differ: linked, unlinked or relinked."""
        both = {s[:3]: s[3] for s in old.spans["text"]}.items() & {s[:3]: s[3] for s in new.spans["text"]}.items()
        detail = []
        for (start, end, label), text in sorted(both):
            before, after = old.links.get((start, end, label)), new.links.get((start, end, label))
            if before != after:
                change = "linked" if before is None else "unlinked" if after is None else "relinked"
                self.links[label][change] += 1
                detail.append({"start": start, "end": end, "label": label, "text": text, "from": before, "to": after})
        return detail


def span_detail(span: tuple[int, int, str, str]) -> dict:
    return {"start": span[0], "end": span[1], "label": span[2], "text": span[3]}


def unmatched(spans: list, key, common: Counter) -> list:
    """The spans left once each of `common` has been matched once, in order of place."""
    left = Counter(common)
    rest = []
    for span in sorted(spans, key=lambda s: (s[0], s[1], s[2])):
        if left[key(span)]:
            left[key(span)] -= 1
        else:
            rest.append(span)
    return rest


def annotator_pseudonyms(release_dir: Path) -> set[str]:
    if "annotator" not in config_columns(release_dir, "annotations"):
        return set()
    return {a for batch in config_batches(release_dir, "annotations", ["annotator"]) for a in batch.column("annotator").to_pylist() if a}


def release_changes(old_dir: Path, new_dir: Path, detail: bool = True) -> dict:
    """The changelog of two release folders; anything that is not a release is refused, never "no changes"."""
    for release_dir in (old_dir, new_dir):
        read_manifest(release_dir)
    try:
        return changelog(old_dir, new_dir, detail)
    except (pyarrow.ArrowException, OSError) as err:
        raise CommandError(f"cannot read the releases' Parquet files: {err}") from None


def changelog(old_dir: Path, new_dir: Path, detail: bool = False) -> dict:
    """Articles added, removed and changed; label counts by name; pseudonyms; with `detail`, what changed in each article."""
    old, new = article_fingerprints(old_dir), article_fingerprints(new_dir)
    common = old.keys() & new.keys()
    changes = {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "text_changed": sorted(i for i in common if old[i][0] != new[i][0]),
        "labels_changed": sorted(i for i in common if old[i][1] != new[i][1]),
    }
    labels = LabelChanges(keep_detail=detail)
    changed = set(changes["labels_changed"])
    old_names, new_names = LabelNames(old_dir), LabelNames(new_dir)
    earlier: dict[str, NamedLabels] = {}
    for row in label_rows(old_dir):
        if row["id"] in changed:
            earlier[row["id"]] = old_names.named(row)
        elif row["id"] not in new:
            labels.whole_article(old_names.named(row), "removed")
    for row in label_rows(new_dir):
        if row["id"] in earlier:
            labels.compare(row["id"], earlier.pop(row["id"]), new_names.named(row))
        elif row["id"] not in old or row["id"] in changed:  # new, or annotated for the first time
            labels.whole_article(new_names.named(row), "added")
    for gone in earlier.values():  # annotated before, no longer
        labels.whole_article(gone, "removed")
    changes["spans"] = {label: {c: counts[c] for c in SPAN_CHANGES} for label, counts in sorted(labels.spans.items())}
    changes["relabellings"] = [{"from": a, "to": b, "spans": n} for (a, b), n in sorted(labels.relabellings.items())]
    changes["relations"] = {label: {c: counts[c] for c in ("added", "removed")} for label, counts in sorted(labels.relations.items())}
    changes["topics"] = {label: {c: counts[c] for c in ("added", "removed")} for label, counts in sorted(labels.topics.items())}
    if labels.links:
        changes["links"] = {label: {c: counts[c] for c in LINK_CHANGES} for label, counts in sorted(labels.links.items())}
    before, after = annotator_pseudonyms(old_dir), annotator_pseudonyms(new_dir)
    changes["annotators"] = {"appeared": sorted(after - before), "disappeared": sorted(before - after)}
    if detail:
        changes["articles"] = dict(sorted(labels.articles.items()))
    return changes


def changes_markdown(changes: dict) -> list[str]:
    """The changelog as Markdown lines, for the card and the terminal alike."""
    lines = []
    for key in ("added", "removed", "text_changed", "labels_changed"):
        ids = changes[key]
        shown = ", ".join(f"`{i}`" for i in ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        lines.append(f"- {key.replace('_', ' ')}: {len(ids)}" + (f" ({shown})" if ids else ""))
    for key in ("appeared", "disappeared"):
        names = changes["annotators"][key]
        lines.append(f"- annotator pseudonyms {key}: {len(names)}" + (f" ({', '.join(f'`{n}`' for n in names)})" if names else ""))
    tables = [
        ("Spans by label", "label", SPAN_CHANGES, changes["spans"]),
        ("Relations by label", "label", ("added", "removed"), changes["relations"]),
        ("Topics", "topic", ("added", "removed"), changes["topics"]),
        ("Entity links by label", "label", LINK_CHANGES, changes.get("links", {})),
    ]
    for title, name, columns, rows in tables:
        if rows:
            lines += ["", f"{title}:", "", f"| {name} | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
                      "|---|" + "---:|" * len(columns)]
            lines += [f"| {label} | " + " | ".join(str(counts[c]) for c in columns) + " |" for label, counts in rows.items()]
    if changes["relabellings"]:
        lines += ["", "Relabelled spans: " + ", ".join(f"{r['from']} → {r['to']} ({r['spans']})" for r in changes["relabellings"])]
    return lines
