"""spaCy: a DocBin per split, one Doc per article title and one per article text, as `ner`'s parts.

The Doc's words are `ner`'s tokens; where the text has whitespace other than one space after a
token (a newline between paragraphs, two spaces), that whitespace is a token of its own, as spaCy's
tokenizer makes it. So `doc.text` is the title or text exactly, and `documents`' character offsets
are the Doc's: every span becomes `doc.char_span(start, end)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..problems import CommandError
from .release_rows import ExportedArticle, ReleaseLabels, tag_runs

INSTALL = "pip install 'spacy>=3.8' (or `scripts/install test` in a checkout)"
SPAN_KEY = "sc"  # spaCy's default key of the SpanCategorizer
HELD_ATTRS = ["ORTH", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID"]


def require_spacy() -> None:
    """spaCy is not a dependency of newscorpus: only this format needs it."""
    try:
        import spacy  # noqa: F401
    except ImportError:
        raise CommandError(f"--format spacy needs the spaCy package, which is not installed: {INSTALL}") from None


def docbin_bytes(articles: Iterable[ExportedArticle], labels: ReleaseLabels, unheld: Counter) -> bytes:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    # only what the Docs hold (the words and their spaces are always kept): the default 13 token
    # attributes would make a split's DocBin about three times the size in memory and on disk
    docbin = DocBin(attrs=HELD_ATTRS, store_user_data=True)
    for article in articles:
        for part in ("title", "text"):
            docbin.add(part_doc(vocab, article, part, labels, unheld))
    return docbin.to_bytes()


def part_doc(vocab, article: ExportedArticle, part: str, labels: ReleaseLabels, unheld: Counter):
    from spacy.tokens import Doc, Span

    text = article.part_text(part)
    words: list[str] = []
    spaces: list[bool] = []
    ner_token_at: list[int] = []  # the Doc token of each `ner` token, in order
    ner_tags: list[str] = []
    position = 0

    def add_whitespace(gap: str) -> None:
        if gap and words and not spaces[-1] and gap[0] == " ":
            spaces[-1], gap = True, gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)

    for row in article.ner[part]:
        for token, start, end, tag in zip(row.tokens, row.token_start, row.token_end, row.tags):
            if text[start:end] != token or start < position:
                raise CommandError(f"article {article.id!r}: the `ner` token {token!r} at {start} is not the {part}'s text there")
            add_whitespace(text[position:start])
            ner_token_at.append(len(words))
            ner_tags.append(tag)
            words.append(token)
            spaces.append(False)
            position = end
    add_whitespace(text[position:])
    doc = Doc(vocab, words=words, spaces=spaces)

    entities = article.part_entities(part)
    links = {(e["start"], e["end"], e["label"]): e.get("kb_id") or "" for e in entities}
    ents = [(ner_token_at[first], ner_token_at[last - 1] + 1, label) for first, last, label in tag_runs(ner_tags)]
    doc.ents = [Span(doc, first, last, label=label, kb_id=links.get((doc[first].idx, doc[last - 1].idx + len(doc[last - 1]), label), ""))
                for first, last, label in ents]

    spans, span_at = [], {}  # span_at: index in `entities` -> index in spans["sc"]
    for index, entity in enumerate(entities):
        span = doc.char_span(entity["start"], entity["end"], label=entity["label"], kb_id=entity.get("kb_id") or "", alignment_mode="strict")
        if span is None:
            unheld["spans whose edges fall inside a token (left out of spans[\"sc\"])"] += 1
            continue
        span_at[index] = len(spans)
        spans.append(span)
    doc.spans[SPAN_KEY] = spans

    relations = []
    for head, tail, label in article.relations if part == "text" else []:
        if head in span_at and tail in span_at:
            relations.append((span_at[head], span_at[tail], label))
        else:
            unheld["relations with a span left out of spans[\"sc\"]"] += 1
    doc.cats = {name: float(name in article.topics) for name in labels.topics}
    doc.user_data.update({"id": article.id, "part": part, "relations": relations})
    return doc

