"""CoNLL-2003 columns: a token and its IOB2 tag per line, exactly `ner`'s rows.

Each article starts with the document line spaCy's `conll_ner_to_docs` (and `spacy convert`)
looks for, `-DOCSTART- -X- O O`: its first column is the token and its last the tag, as a
two-column reader reads it. A blank line ends each `ner` row (the title, then each paragraph).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from .release_rows import ExportedArticle, tag_runs

DOCSTART = "-DOCSTART- -X- O O"


def conll_lines(articles: Iterable[ExportedArticle], unheld: Counter) -> Iterator[str]:
    for article in articles:
        yield f"{DOCSTART}\n\n"
        for part in ("title", "text"):
            spans = {(e["start"], e["end"], e["label"]) for e in article.part_entities(part)}
            kept = 0
            for row in article.ner[part]:
                tagged = {(row.token_start[first], row.token_end[last - 1], label) for first, last, label in tag_runs(row.tags)}
                kept += len(tagged)
                unheld["spans held only trimmed to whole tokens"] += len(tagged - spans)
                yield "".join(f"{token} {tag}\n" for token, tag in zip(row.tokens, row.tags)) + "\n"
            unheld["spans that `ner` drops (nested, crossing, not on whole tokens)"] += len(article.part_entities(part)) - kept
        unheld["relations"] += len(article.relations)
        unheld["topics of articles"] += len(article.topics)
        unheld["entity links"] += sum(bool(e.get("kb_id")) for e in article.entities + article.title_entities)

