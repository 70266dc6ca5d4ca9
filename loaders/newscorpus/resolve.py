"""Resolve: one gold label set per article from its annotators, and how much they agreed.

Rules (also written into every dataset card):
- cancelled (skipped) annotations carry no labels and are not counted as annotators;
- an annotator with several annotations of one article counts once, with the latest (highest id);
- a `ground_truth` annotation wins outright (the latest one if several);
- otherwise a reviewer's annotation of a review task (`studio review`) is gold: the article is
  adjudicated (the latest review, if several); agreement is still that of the annotators. A review
  made from other votes than the article's annotations give now is outdated: it stays gold, with a
  warning, until the article is reviewed again (ReviewCheck);
- otherwise a span (start, end, label) or a topic is kept when a strict majority of annotators
  chose it; a tie (exactly half, e.g. one of two) is dropped and counted;
- a relation follows the same rules over (head span, tail span, label), and is kept only when both
  of its spans are in the gold;
- a gold span's entity link is the strict majority of the links (or none) that its annotators
  gave it; without one (a tie) the span is not linked, and that is counted.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import orjson

from .exports.records import AnnotationRecord, Relation, Span, span_order
from .problems import Problem

RULES = [
    "Cancelled (skipped) annotations carry no labels and do not count as annotators.",
    "An annotator with several annotations of one article counts once, with the latest.",
    "A ground-truth annotation wins outright (the latest, if several).",
    "Otherwise a reviewer's submitted annotation of a review task (`newscorpus studio review`) is gold: the article is adjudicated. Agreement is computed from the annotators' own annotations, before adjudication.",
    "Otherwise a span (start, end, label) or a topic is kept when a strict majority of annotators chose it; ties are dropped and counted.",
]
RELATION_RULE = ("A relation follows the same rules over (head span, tail span, label) and is kept only when both its spans are in the gold; "
                 "a relation whose span was outvoted is dropped and counted.")
LINK_RULE = ("A gold span's link is the one that a strict majority of the annotators who marked the span gave it (leaving it unlinked counts as a vote); "
             "without a strict majority (a tie) the span is not linked, and that is counted. `NIL` means not in the knowledge base, null not linked.")


@dataclass
class Resolved:
    article_id: str
    method: str  # ground_truth | adjudicated | single | majority | none (every annotation cancelled)
    annotators: int
    entities: list[Span]
    title_entities: list[Span]
    topics: list[str]
    entity_agreement: float | None
    relations: list[Relation]
    carried_forward: bool  # the labels come from tasks of an earlier text, moved onto the corpus text
    links: dict[Span, str]  # a gold text span's link (taxonomy.links); a span without one is not linked


def span_f1(a: set, b: set) -> float:
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


def majority(choices: list[list], counts: Counter, what: str) -> list:
    votes = Counter(item for chosen in choices for item in set(chosen))
    kept = [item for item, n in votes.items() if 2 * n > len(choices)]
    counts[f"{what}_ties_dropped"] += sum(1 for n in votes.values() if 2 * n == len(choices))
    counts[f"{what}_minority_dropped"] += sum(1 for n in votes.values() if 2 * n < len(choices))
    return kept


class AgreementTally:
    """Release-level agreement, accumulated one article at a time (no per-article state kept).

    Entities: micro-averaged pairwise F1 of exact (start, end, label) spans.
    Topics: Krippendorff's alpha (nominal) over (article, topic) units, each annotator's vote 0/1,
    from the coincidence counts o00, o01, o11.
    """

    def __init__(self, topic_names: list[str]):
        self.topic_names = topic_names
        self.articles = 0
        self.entities_matched: Counter = Counter()  # by label: pairwise exact matches
        self.entities_total: Counter = Counter()
        self.relations_matched: Counter = Counter()  # by label, like entities: pairwise exact matches
        self.relations_total: Counter = Counter()
        self.topic_coincidences = {topic: [0.0, 0.0, 0.0] for topic in topic_names}  # o00, o01, o11 of each topic

    def add(self, annotations: list[AnnotationRecord]) -> None:
        if len(annotations) < 2:
            return
        self.articles += 1
        for a, b in combinations(annotations, 2):
            sa, sb = spans_of(a), spans_of(b)
            for _, shared in sa & sb:
                self.entities_matched[shared.label] += 2  # a match counts on both sides
            self.entities_total.update(s.label for _, s in [*sa, *sb])
            ra, rb = set(a.relations), set(b.relations)
            for shared in ra & rb:
                self.relations_matched[shared.label] += 2  # a match counts on both sides, as for spans
            self.relations_total.update(r.label for r in ra)
            self.relations_total.update(r.label for r in rb)
        m = len(annotations)
        for topic in self.topic_names:
            n1 = sum(topic in x.topics for x in annotations)
            n0 = m - n1
            coincidences = self.topic_coincidences[topic]
            coincidences[0] += n0 * (n0 - 1) / (m - 1)
            coincidences[1] += n0 * n1 / (m - 1)
            coincidences[2] += n1 * (n1 - 1) / (m - 1)

    @property
    def entity_f1(self) -> float | None:
        total = self.entities_total.total()
        return self.entities_matched.total() / total if total else None

    def relation_f1(self, label: str | None = None) -> float | None:
        """Micro pairwise F1 of exact relations (head, tail, label), of one label or of all."""
        matched = self.relations_matched[label] if label else self.relations_matched.total()
        total = self.relations_total[label] if label else self.relations_total.total()
        return matched / total if total else None

    @property
    def topic_alpha(self) -> float | None:
        return binary_alpha(*(sum(c[i] for c in self.topic_coincidences.values()) for i in range(3)))

    def entity_f1_by_label(self) -> dict[str, float]:
        """Pairwise F1 of exact spans, per label: only labels some pair of annotators used."""
        return {label: self.entities_matched[label] / total for label, total in self.entities_total.items()}

    def topic_alpha_by_label(self) -> dict[str, float | None]:
        """Krippendorff's alpha of each topic on its own (chosen or not); None where every vote agreed on absence."""
        return {topic: binary_alpha(*coincidences) for topic, coincidences in self.topic_coincidences.items()}


def binary_alpha(o00: float, o01: float, o11: float) -> float | None:
    """Krippendorff's alpha (nominal, two values) from the coincidence counts; None when one value never occurs."""
    n0, n1 = o00 + o01, o11 + o01
    n = n0 + n1
    if n0 == 0 or n1 == 0 or n < 2:
        return None
    return 1 - (n - 1) * o01 / (n0 * n1)


def spans_of(record: AnnotationRecord) -> set:
    return {("text", s) for s in record.entities} | {("title", s) for s in record.title_entities}


def latest_per_annotator(records: list[AnnotationRecord]) -> list[AnnotationRecord]:
    """The annotations that vote: not cancelled, the latest of each annotator, in annotation order."""
    latest = {r.annotator: r for r in sorted(records, key=lambda r: r.annotation_id) if not r.cancelled}
    return sorted(latest.values(), key=lambda r: r.annotation_id)


def voters_and_reviews(records: list[AnnotationRecord]) -> tuple[list[AnnotationRecord], list[AnnotationRecord]]:
    """The annotators' voting annotations, and the reviewers' submitted (not cancelled) ones."""
    return latest_per_annotator([r for r in records if not r.review]), [r for r in records if r.review and not r.cancelled]


def votes_of(voters: list[AnnotationRecord]) -> frozenset:
    """What a review is made from: each voting annotation, its annotator, its spans and its topics.

    An annotation edited in Label Studio keeps its id, so its labels are part of the votes; a save
    that changes no label changes no vote. Relations are not part of them (a review task does not show them).
    """
    return frozenset((r.annotator, r.annotation_id, frozenset(r.entities), frozenset(r.title_entities), frozenset(r.topics)) for r in voters)


def reviewed_votes(review) -> frozenset | None:
    """The votes a review task was made from, read back from its `data.review` (studio.review
    writes it); None when it does not say (a task made by hand)."""
    try:
        spans = [(s["part"], Span(s["start"], s["end"], s["label"], s["text"]), frozenset(s["votes"])) for s in review["spans"]]
        topics = review["topics"]
        return frozenset((annotator, annotation_id,
                          frozenset(span for part, span, who in spans if part == "text" and annotator in who),
                          frozenset(span for part, span, who in spans if part == "title" and annotator in who),
                          frozenset(topic for topic, who in topics.items() if annotator in who))
                         for annotator, annotation_id in zip(review["annotators"], review["annotations"], strict=True))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class ReviewCheck:
    """Each article's latest review against the votes of its annotations now.

    The two come apart, in either order (review tasks never supersede annotation tasks), so the
    votes of every article wait as one number until the reviews are known.
    """

    def __init__(self):
        self.votes: dict[str, int | None] = {}  # article -> hash of its votes; None: ground truth decides, no review does
        self.reviews: dict[str, AnnotationRecord] = {}

    def __call__(self, article_id: str, records: list[AnnotationRecord]) -> None:
        voters, reviews = voters_and_reviews(records)
        if reviews:
            self.reviews[article_id] = max(reviews, key=lambda r: r.annotation_id)
        elif not any(r.review for r in records):
            self.votes[article_id] = None if any(r.ground_truth for r in voters) else hash(votes_of(voters))

    def outdated(self) -> list[Problem]:
        problems = []
        no_votes = hash(frozenset())
        for article_id, review in self.reviews.items():
            now = self.votes.get(article_id, no_votes)
            made_from = reviewed_votes(review.reviewed.votes) if review.reviewed else None
            if now is None or made_from is None or hash(made_from) == now:
                continue
            ids = ", ".join(str(vote[1]) for vote in sorted(made_from, key=lambda vote: vote[1])) or "none"
            problems.append(Problem("review-outdated", review.export,
                                    f"review {review.annotation_id} of article {article_id!r} was made from annotations {ids}, and the article's "
                                    "annotations have changed since (one edited, added or removed); it stays gold until the article is reviewed "
                                    "again: `newscorpus studio review` queues it with the new votes", task=review.task_id, pointer=review.reviewed.pointer))
        return problems


def resolve_gold(article_id: str, voters: list[AnnotationRecord], counts: Counter, reviews: list[AnnotationRecord] = ()) -> Resolved:
    """The gold labels of one article from its voting annotations and its reviewers' submitted ones."""
    gold = [r for r in voters if r.ground_truth]
    agreement = None
    if len(voters) >= 2:
        agreement = sum(span_f1(spans_of(a), spans_of(b)) for a, b in combinations(voters, 2)) / (len(voters) * (len(voters) - 1) / 2)
    if gold or (voters and not reviews and len(voters) == 1):
        winner = (gold or voters)[-1]
        method = "ground_truth" if gold else "single"
        entities, title_entities, chosen, relations, links = winner.entities, winner.title_entities, winner.topics, winner.relations, winner.links
    elif reviews:
        method = "adjudicated"
        winner = max(reviews, key=lambda r: r.annotation_id)
        entities, title_entities, chosen, relations, links = winner.entities, winner.title_entities, winner.topics, winner.relations, winner.links
    elif not voters:
        method, entities, title_entities, chosen, relations, links = "none", [], [], [], [], {}
    else:
        method = "majority"
        kept = majority([list(spans_of(r)) for r in voters], counts, "spans")
        entities = [s for part, s in kept if part == "text"]
        title_entities = [s for part, s in kept if part == "title"]
        chosen = majority([r.topics for r in voters], counts, "topics")
        relations = majority_relations(voters, set(entities), counts) if any(r.relations for r in voters) else []
        links = majority_links(voters, entities, counts) if any(r.links for r in voters) else {}
    counts[f"resolved_{method}"] += 1
    return Resolved(
        article_id=article_id,
        method=method,
        annotators=len(voters),
        entities=sorted(set(entities), key=span_order),
        title_entities=sorted(set(title_entities), key=span_order),
        topics=sorted(set(chosen)),
        entity_agreement=agreement,
        relations=sorted(set(relations), key=lambda r: (span_order(r.head), span_order(r.tail), r.label)),
        carried_forward=any(r.carried_forward for r in voters),
        links=links,
    )


def majority_relations(voters: list[AnnotationRecord], gold_entities: set[Span], counts: Counter) -> list[Relation]:
    """Relations by strict majority among those whose two spans are both gold; the others are counted as dropped."""
    eligible = [[r for r in voter.relations if r.head in gold_entities and r.tail in gold_entities] for voter in voters]
    outvoted = {r for voter in voters for r in voter.relations} - {r for chosen in eligible for r in chosen}
    counts["relations_span_outvoted_dropped"] += len(outvoted)
    return majority(eligible, counts, "relations")


def majority_links(voters: list[AnnotationRecord], gold_entities: list[Span], counts: Counter) -> dict[Span, str]:
    """Each gold span's link by strict majority of the annotators who marked it; a span no
    annotator linked has no vote to count, one without a strict majority is a counted tie."""
    links = {}
    marked = [(voter.links, set(voter.entities)) for voter in voters]
    for span in gold_entities:
        given = [linked.get(span) for linked, spans in marked if span in spans]
        if not any(given):
            continue
        link, n = Counter(given).most_common(1)[0]
        if 2 * n <= len(given):
            counts["links_ties_dropped"] += 1
        elif link is not None:
            links[span] = link
    return links


def span_columns(spans: list[Span], links: dict[Span, str] | None = None) -> dict[str, list]:
    """`links`: the spans' links, given as a `kb_id` list, when the record has any."""
    columns = {"start": [s.start for s in spans], "end": [s.end for s in spans], "label": [s.label for s in spans], "text": [s.text for s in spans]}
    if links:
        columns["kb_id"] = [links.get(s) for s in spans]
    return columns


def relation_columns(entities: list[Span], relations: list[Relation]) -> dict[str, list]:
    """Head and tail as indexes into `entities` as listed (the row's `entities` column)."""
    if not relations:  # most rows: no index of their spans to build
        return {"head": [], "tail": [], "label": []}
    index: dict[tuple, int] = {}
    for i, span in enumerate(entities):
        index.setdefault((span.start, span.end, span.label), i)
    return {"head": [index[(r.head.start, r.head.end, r.head.label)] for r in relations],
            "tail": [index[(r.tail.start, r.tail.end, r.tail.label)] for r in relations], "label": [r.label for r in relations]}


def stored_labels(labels: Resolved | AnnotationRecord) -> dict:
    """Labels as the release tables take them: a list per field, so a chunk of articles joins them without a Python object per span."""
    return {"entities": span_columns(labels.entities, labels.links), "title_entities": span_columns(labels.title_entities),
            "topics": labels.topics, "relations": relation_columns(labels.entities, labels.relations)}


def stored_gold(resolved: Resolved) -> dict:
    return {"method": resolved.method, "annotators": resolved.annotators, "entity_agreement": resolved.entity_agreement,
            "carried_forward": resolved.carried_forward, **stored_labels(resolved)}


def stored_annotation(record: AnnotationRecord) -> dict:
    parent = record.parent_prediction
    return {"article_id": record.article_id, "task_id": record.task_id, "annotation_id": record.annotation_id, "annotator": record.annotator,
            "ground_truth": record.ground_truth, "cancelled": record.cancelled, "export": record.export, "review": record.review,
            "parent_prediction": None if parent is None else {"id": parent.id, "model_version": parent.model_version},
            "carried_forward": record.carried_forward, **stored_labels(record)}


def stored_spans(columns: dict) -> list[Span]:
    return list(map(Span, columns["start"], columns["end"], columns["label"], columns["text"]))


def annotation_from_store(stored: dict) -> AnnotationRecord:
    """The record stored_annotation stored, back (its prediction reference left out)."""
    entities = stored_spans(stored["entities"])
    relations = stored["relations"]
    return AnnotationRecord(
        article_id=stored["article_id"], task_id=stored["task_id"], annotation_id=stored["annotation_id"], annotator=stored["annotator"],
        ground_truth=stored["ground_truth"], cancelled=stored["cancelled"], export=stored["export"], entities=entities,
        title_entities=stored_spans(stored["title_entities"]), topics=stored["topics"],
        relations=[Relation(entities[h], entities[t], label) for h, t, label in zip(relations["head"], relations["tail"], relations["label"])],
        review=stored["review"], carried_forward=stored["carried_forward"])


class ResolvedStore:
    """Resolved labels and raw annotations on disk (SQLite), so the build keeps no corpus in memory."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE IF NOT EXISTS resolved (article_id TEXT PRIMARY KEY, gold BLOB, annotations BLOB)")

    def add(self, article_id: str, gold: dict, annotations: list[dict]) -> bool:
        """Stores a new article; False, storing nothing, when the article is stored already."""
        try:
            self.db.execute("INSERT INTO resolved VALUES (?, ?, ?)", (article_id, orjson.dumps(gold), orjson.dumps(annotations)))
        except sqlite3.IntegrityError:
            return False
        return True

    def put(self, article_id: str, gold: dict, annotations: list[dict]) -> None:
        self.db.execute("INSERT OR REPLACE INTO resolved VALUES (?, ?, ?)", (article_id, orjson.dumps(gold), orjson.dumps(annotations)))

    def get(self, article_id: str) -> tuple[dict, list[dict]] | None:
        row = self.db.execute("SELECT gold, annotations FROM resolved WHERE article_id = ?", (article_id,)).fetchone()
        return None if row is None else (orjson.loads(row[0]), orjson.loads(row[1]))

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()


class Resolver:
    """The validate sink of a build: resolves each article as its annotations pass and stores it.

    An article's annotations are stored by annotation id, its reviews' after its annotators': the
    order of rows in `annotations` does not depend on which of the two came first."""

    def __init__(self, store: ResolvedStore, topic_names: list[str]):
        self.store = store
        self.counts: Counter = Counter()
        self.agreement = AgreementTally(topic_names)

    def __call__(self, article_id: str, records: list[AnnotationRecord]) -> None:
        records = sorted(records, key=lambda r: r.annotation_id)
        for record in records:
            self.counts["annotations"] += 1
            if record.cancelled:
                self.counts["annotations_cancelled"] += 1
        voters, reviews = voters_and_reviews(records)
        self.agreement.add(voters)
        resolved = resolve_gold(article_id, voters, self.counts, reviews)
        if resolved.carried_forward and resolved.method != "none":
            self.counts["articles_carried_forward"] += 1
        ours, annotations = stored_gold(resolved), [stored_annotation(r) for r in records]
        if self.store.add(article_id, ours, annotations):
            return
        # The article's annotation tasks and its review tasks come apart (they never supersede each
        # other): one resolution is the annotators', the other the reviewer's.
        gold, stored = self.store.get(article_id)
        annotated, adjudicated = (gold, ours) if any(r.review for r in records) else (ours, gold)
        combined = with_adjudication(annotated, adjudicated)
        for method, change in ((gold["method"], -1), (resolved.method, -1), (combined["method"], 1)):
            self.counts[f"resolved_{method}"] += change
            if not self.counts[f"resolved_{method}"]:
                del self.counts[f"resolved_{method}"]
        self.store.put(article_id, combined, sorted(stored + annotations, key=lambda a: (a["review"], a["annotation_id"])))


def with_adjudication(annotated: dict, adjudicated: dict) -> dict:
    """The annotators' resolution, replaced by the reviewer's labels unless ground truth decided it."""
    if adjudicated["method"] != "adjudicated" or annotated["method"] == "ground_truth":
        return annotated
    return {**adjudicated, "annotators": annotated["annotators"], "entity_agreement": annotated["entity_agreement"]}
