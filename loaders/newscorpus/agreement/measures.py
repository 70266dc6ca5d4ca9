"""The agreement measures: per annotator pair, per label, per kind of disagreement, against gold.

Fed one article at a time with its annotations (annotators already as pseudonyms); only articles
with two or more voting annotators count (resolve.voters_and_reviews: not cancelled, the latest of
each annotator, reviews apart). Exact spans, relations and topics are tallied by resolve's
AgreementTally, the tally the card has always shown, so there is one definition of each.

Spans are (part, span) with part `title` or `text`. Between two annotators on one article:
- exact: the same part, start, end and label;
- overlap: the same part and label, overlapping, matched one to one (a maximum matching);
- a `label` disagreement: two spans at the same place with different labels (one to one);
- a `boundary` disagreement: two spans of the same label that overlap with other ends (one to one,
  among spans in neither an exact match nor a label disagreement);
- `unmatched`: a span that no span of the other annotator overlaps.
A span that overlaps the other's only with another label and other ends is in none of the three.

token_kappa is Cohen's kappa over the BIO tag of every token of the `ner` config's tokenizer, each
annotator's spans tagged as `ner` tags gold (the outermost wins where spans nest or cross). Tokens
of a batch of articles are made and tagged at once (numpy), as the build makes `ner`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from ..hf_builder.ner import NerPart, bio_tags
from ..hf_builder.tokens import NEWLINE, tokenize
from ..exports.records import AnnotationRecord, Span
from ..resolve import AgreementTally, spans_of, voters_and_reviews

PARTS = ("title", "text")
TOKEN_BATCH_ARTICLES = 512  # articles tokenized and tagged at once
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

PartSpan = tuple[str, Span]


@dataclass
class AnnotatedArticle:
    """An article's title and text with its annotations as a release holds them (pseudonymous annotators)."""

    article_id: str
    title: str
    text: str
    records: list[AnnotationRecord]


@dataclass
class LabelNames:
    """The label sets a report lists, in the taxonomy's order."""

    entities: list[str]
    topics: list[str]
    relations: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, taxonomy) -> "LabelNames":
        return cls(taxonomy.entity_names, taxonomy.topic_names, taxonomy.relation_names)

    @property
    def bio_names(self) -> list[str]:
        return ["O"] + [f"{prefix}-{name}" for name in self.entities for prefix in ("B", "I")]


@dataclass
class Disagreement:
    """One disagreement of a pair on an article, with the sentence it lies in (for the HTML page)."""

    article_id: str
    part: str
    kind: str  # label | boundary | unmatched
    a: str  # the pair's annotators
    b: str
    spans: list[tuple[str, Span]]  # (annotator, span): two for label and boundary, one for unmatched
    sentence: str
    sentence_start: int  # where the sentence lies in its part


@dataclass
class SpanComparison:
    """Two annotators' spans of one article, compared."""

    exact: int
    overlap: int
    label: list[tuple[PartSpan, PartSpan]]
    boundary: list[tuple[PartSpan, PartSpan]]
    unmatched_a: list[PartSpan]
    unmatched_b: list[PartSpan]


def overlapping(x: PartSpan, y: PartSpan) -> bool:
    return x[0] == y[0] and x[1].start < y[1].end and y[1].start < x[1].end


def maximum_matching(left: list, right: list, linked) -> list[tuple]:
    """A maximum one-to-one matching of left to right where `linked(l, r)` (Kuhn's augmenting paths;
    an article's spans of one label are few)."""
    edges = [[j for j, r in enumerate(right) if linked(item, r)] for item in left]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(left)):
        if edges[i]:
            augment(i, set())
    return sorted((left[i], right[j]) for j, i in owner.items())


def by_part_and_label(spans: Iterable[PartSpan]) -> dict[tuple[str, str], list[PartSpan]]:
    groups = defaultdict(list)
    for item in sorted(spans):
        groups[item[0], item[1].label].append(item)
    return groups


def compare_spans(a: set[PartSpan], b: set[PartSpan]) -> SpanComparison:
    exact = a & b
    groups_a, groups_b = by_part_and_label(a), by_part_and_label(b)
    overlap = 0
    for key, spans in groups_a.items():
        others = groups_b.get(key, [])
        overlap += len(spans) if spans == others else len(maximum_matching(spans, others, overlapping)) if others else 0
    rest_a, rest_b = sorted(a - exact), sorted(b - exact)
    at_place: dict[tuple, list[PartSpan]] = defaultdict(list)
    for item in rest_b:
        at_place[item[0], item[1].start, item[1].end].append(item)
    label_pairs = []
    for item in rest_a:
        others = at_place.get((item[0], item[1].start, item[1].end))
        if others:
            label_pairs.append((item, others.pop(0)))
    paired = {x for pair in label_pairs for x in pair}
    left, right = [x for x in rest_a if x not in paired], [y for y in rest_b if y not in paired]
    boundary = maximum_matching(left, right, lambda x, y: x[1].label == y[1].label and overlapping(x, y)) if left and right else []
    return SpanComparison(
        exact=len(exact), overlap=overlap, label=label_pairs, boundary=boundary,
        unmatched_a=[x for x in rest_a if not any(overlapping(x, y) for y in b)],
        unmatched_b=[y for y in rest_b if not any(overlapping(y, x) for x in a)],
    )


def sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence (within its line) that holds a span, and where it starts; a span across sentences gets them all."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    first, last = line_start, line_end
    for match in SENTENCE_END.finditer(text, line_start, line_end):
        if match.end() <= start:
            first = match.end()
        elif match.start() >= end:
            last = match.start()
            break
    return text[first:last], first


@dataclass
class PairTally:
    articles: int = 0
    exact: int = 0
    overlap: int = 0
    spans: int = 0  # |A| + |B| over the shared articles


@dataclass
class AnnotatorTally:
    articles: int = 0
    spans: int = 0


@dataclass
class GoldTally:
    articles: int = 0
    matched: int = 0
    spans: int = 0  # the annotator's
    gold: int = 0


class TokenTally:
    """Per pair: tokens, tokens with the same tag, and each side's tag counts (for Cohen's kappa)."""

    def __init__(self, bio_names: list[str]):
        self.bio_names = bio_names
        self.pairs: dict[tuple[str, str], list] = {}  # (a, b) -> [tokens, agreeing, tag counts of a, tag counts of b]

    def add(self, articles: list[tuple[AnnotatedArticle, list[AnnotationRecord]]]) -> None:
        """A batch of articles with their voters in pair order (sorted by annotator)."""
        parts = [(article, part) for article, _ in articles for part in PARTS]
        texts = [article.title if part == "title" else article.text for article, part in parts]
        tokens = tokenize("\n".join(texts))
        if not len(tokens.starts):
            return
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        part_starts = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(lengths[:-1], out=part_starts[1:])
        newlines = np.flatnonzero(tokens.code_points == NEWLINE)
        token_article = (np.searchsorted(part_starts, tokens.starts, "right") - 1) // 2
        slots = max(len(voters) for _, voters in articles)
        tags = []
        for k in range(slots):
            slot_parts = [NerPart(article.article_id, part, text, [(s.start, s.end, s.label) for s in slot_spans(voters, k, part)])
                          for (article, part), text, voters in zip(parts, texts, (v for _, v in articles for _ in PARTS))]
            tags.append(bio_tags(slot_parts, part_starts, tokens, newlines, self.bio_names, Counter()))
        n_tags = len(self.bio_names)
        for i, j in combinations(range(slots), 2):
            names = sorted({(voters[i].annotator, voters[j].annotator) for _, voters in articles if len(voters) > j})
            local = {pair: n for n, pair in enumerate(names)}
            article_pair = np.array([local[voters[i].annotator, voters[j].annotator] if len(voters) > j else -1 for _, voters in articles])
            token_pair = article_pair[token_article]
            chosen = token_pair >= 0
            pair_of, x, y = token_pair[chosen], tags[i][chosen], tags[j][chosen]
            tokens_of = np.bincount(pair_of, minlength=len(names))
            agreeing = np.bincount(pair_of, weights=x == y, minlength=len(names))
            counts_a = np.bincount(pair_of * n_tags + x, minlength=len(names) * n_tags).reshape(len(names), n_tags)
            counts_b = np.bincount(pair_of * n_tags + y, minlength=len(names) * n_tags).reshape(len(names), n_tags)
            for n, pair in enumerate(names):
                tally = self.pairs.setdefault(pair, [0, 0, np.zeros(n_tags, dtype=np.int64), np.zeros(n_tags, dtype=np.int64)])
                tally[0] += int(tokens_of[n])
                tally[1] += int(agreeing[n])
                tally[2] += counts_a[n]
                tally[3] += counts_b[n]

    def merge(self, other: "TokenTally") -> None:
        for pair, (tokens, agreeing, counts_a, counts_b) in other.pairs.items():
            tally = self.pairs.setdefault(pair, [0, 0, np.zeros_like(counts_a), np.zeros_like(counts_b)])
            tally[0] += tokens
            tally[1] += agreeing
            tally[2] += counts_a
            tally[3] += counts_b

    def kappa(self, pair: tuple[str, str]) -> float | None:
        """Cohen's kappa; None without tokens or when chance agreement is certain (both tagged every token alike, all O say)."""
        if pair not in self.pairs:
            return None
        tokens, agreeing, counts_a, counts_b = self.pairs[pair]
        if not tokens:
            return None
        observed = agreeing / tokens
        expected = float(np.dot(counts_a, counts_b)) / tokens**2
        return None if expected >= 1 else (observed - expected) / (1 - expected)


def slot_spans(voters: list[AnnotationRecord], k: int, part: str) -> list[Span]:
    if k >= len(voters):
        return []
    return voters[k].title_entities if part == "title" else voters[k].entities


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


class AgreementMeasures:
    """Every measure of the report, accumulated article by article; `report()` gives the JSON shape."""

    def __init__(self, labels: LabelNames, keep_disagreements: bool = False):
        self.labels = labels
        self.tally = AgreementTally(labels.topics)
        self.tokens = TokenTally(labels.bio_names)
        self.pairs: dict[tuple[str, str], PairTally] = defaultdict(PairTally)
        self.annotators: dict[str, AnnotatorTally] = defaultdict(AnnotatorTally)
        self.label_spans: Counter = Counter()
        self.kinds: Counter = Counter({"label": 0, "boundary": 0, "unmatched": 0})
        self.confusion: Counter = Counter()
        self.gold: dict[str, GoldTally] = defaultdict(GoldTally)
        self.keep_disagreements = keep_disagreements
        self.disagreements: list[Disagreement] = []
        self.waiting: list[tuple[AnnotatedArticle, list[AnnotationRecord]]] = []

    def add(self, article: AnnotatedArticle) -> None:
        voters, reviews = voters_and_reviews(article.records)
        self.add_against_gold(voters, reviews)
        if len(voters) < 2:
            return
        self.tally.add(voters)
        voters = sorted(voters, key=lambda r: r.annotator)
        spans = {r.annotator: spans_of(r) for r in voters}
        for record in voters:
            self.annotators[record.annotator].articles += 1
            self.annotators[record.annotator].spans += len(spans[record.annotator])
            self.label_spans.update(s.label for _, s in spans[record.annotator])
        for a, b in combinations(voters, 2):
            self.add_pair(article, a.annotator, b.annotator, spans[a.annotator], spans[b.annotator])
        self.waiting.append((article, voters))
        if len(self.waiting) >= TOKEN_BATCH_ARTICLES:
            self.flush()

    def flush(self) -> None:
        if self.waiting:
            self.tokens.add(self.waiting)
            self.waiting = []

    def add_pair(self, article: AnnotatedArticle, a: str, b: str, spans_a: set[PartSpan], spans_b: set[PartSpan]) -> None:
        pair = self.pairs[a, b]
        found = compare_spans(spans_a, spans_b)
        pair.articles += 1
        pair.exact += found.exact
        pair.overlap += found.overlap
        pair.spans += len(spans_a) + len(spans_b)
        self.kinds["label"] += len(found.label)
        self.kinds["boundary"] += len(found.boundary)
        self.kinds["unmatched"] += len(found.unmatched_a) + len(found.unmatched_b)
        self.confusion.update(tuple(sorted((x[1].label, y[1].label))) for x, y in found.label)
        if not self.keep_disagreements:
            return
        for kind, pairs in (("label", found.label), ("boundary", found.boundary)):
            for x, y in pairs:
                self.keep(article, kind, a, b, [(a, x), (b, y)])
        for who, items in ((a, found.unmatched_a), (b, found.unmatched_b)):
            for x in items:
                self.keep(article, "unmatched", a, b, [(who, x)])

    def keep(self, article: AnnotatedArticle, kind: str, a: str, b: str, spans: list[tuple[str, PartSpan]]) -> None:
        part = spans[0][1][0]
        text = article.title if part == "title" else article.text
        sentence, start = sentence_around(text, min(s.start for _, (_, s) in spans), max(s.end for _, (_, s) in spans))
        self.disagreements.append(Disagreement(article.article_id, part, kind, a, b, [(who, s) for who, (_, s) in spans], sentence, start))

    def add_against_gold(self, voters: list[AnnotationRecord], reviews: list[AnnotationRecord]) -> None:
        """Each annotator against gold a ground-truth annotation or a reviewer settled (as resolve picks it), never their own."""
        truths = [r for r in voters if r.ground_truth]
        gold = truths[-1] if truths else max(reviews, key=lambda r: r.annotation_id) if reviews else None
        if gold is None:
            return
        gold_spans = spans_of(gold)
        for record in voters:
            if record.annotator == gold.annotator:
                continue
            own = spans_of(record)
            tally = self.gold[record.annotator]
            tally.articles += 1
            tally.matched += len(own & gold_spans)
            tally.spans += len(own)
            tally.gold += len(gold_spans)

    def merge(self, other: "AgreementMeasures") -> None:
        """Adds another part's measures (a build measures each chunk of articles in a worker)."""
        self.flush()
        other.flush()
        merge_tallies(self.tally, other.tally)
        self.tokens.merge(other.tokens)
        for mine, theirs in ((self.pairs, other.pairs), (self.annotators, other.annotators), (self.gold, other.gold)):
            for key, tally in theirs.items():
                for name, value in vars(tally).items():
                    setattr(mine[key], name, getattr(mine[key], name) + value)
        for mine, theirs in ((self.label_spans, other.label_spans), (self.kinds, other.kinds), (self.confusion, other.confusion)):
            mine.update(theirs)
        self.disagreements += other.disagreements

    def report(self) -> dict:
        """The JSON shape of schema/agreement.schema.json; a value that cannot be computed is None."""
        self.flush()
        label_f1 = self.tally.entity_f1_by_label()
        topic_alpha = self.tally.topic_alpha_by_label()
        return {
            "articles": self.tally.articles,
            "annotators": [{"annotator": name, "articles": t.articles, "spans": t.spans} for name, t in sorted(self.annotators.items())],
            "pairs": [{"a": a, "b": b, "articles": t.articles, "span_f1": ratio(2 * t.exact, t.spans), "overlap_f1": ratio(2 * t.overlap, t.spans),
                       "token_kappa": self.tokens.kappa((a, b))} for (a, b), t in sorted(self.pairs.items())],
            "labels": [{"label": name, "spans": self.label_spans[name], "span_f1": label_f1.get(name)} for name in self.labels.entities],
            "disagreements": dict(self.kinds),
            "confusion": [{"labels": list(labels), "count": n} for labels, n in sorted(self.confusion.items(), key=lambda item: (-item[1], item[0]))],
            "relations": {"span_f1": self.tally.relation_f1()},
            "topics": {"alpha": self.tally.topic_alpha, "labels": [{"topic": name, "alpha": topic_alpha.get(name)} for name in self.labels.topics]},
            "against_gold": [{"annotator": name, "articles": t.articles, "precision": ratio(t.matched, t.spans), "recall": ratio(t.matched, t.gold),
                              "f1": ratio(2 * t.matched, t.spans + t.gold)} for name, t in sorted(self.gold.items())],
        }


def merge_tallies(tally: AgreementTally, other: AgreementTally) -> None:
    tally.articles += other.articles
    for mine, theirs in ((tally.entities_matched, other.entities_matched), (tally.entities_total, other.entities_total),
                         (tally.relations_matched, other.relations_matched), (tally.relations_total, other.relations_total)):
        mine.update(theirs)
    for topic, coincidences in other.topic_coincidences.items():
        tally.topic_coincidences[topic] = [x + y for x, y in zip(tally.topic_coincidences[topic], coincidences)]


def measure(articles: Iterable[AnnotatedArticle], labels: LabelNames, keep_disagreements: bool = False) -> AgreementMeasures:
    measures = AgreementMeasures(labels, keep_disagreements)
    for article in articles:
        measures.add(article)
    measures.flush()
    return measures
