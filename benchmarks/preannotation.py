"""What gold-derived pre-annotation (`studio push --pre-annotate`) saves, measured on GUM.

`python -m benchmarks.preannotation` pre-annotates each of the 24 GUM Wikinews articles
(tests/data/gum-news) from the gold of the other 23, exactly as `studio push --pre-annotate` would,
and prints the precision and recall of those predictions against the article's own gold spans
(exact start, end and label), overall and for predictions at or above a few minimum scores.
Recall is the share of gold spans an annotator only confirms; 1 - precision the share of offered
spans they delete.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from newscorpus.exports.reading import TaskReader
from newscorpus.studio.predictions import GoldDocument, GoldLexicon
from newscorpus.taxonomy import Taxonomy

GUM = Path(__file__).resolve().parents[1] / "tests" / "data" / "gum-news"
THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.9)


def gum_documents(export: Path) -> tuple[list[GoldDocument], list[str]]:
    """Each GUM article's text, title and gold spans, read by newscorpus's own export reader."""
    tasks = json.loads(export.read_text(encoding="utf-8"))
    labels = sorted({label for t in tasks for a in t["annotations"] for r in a["result"] if r["type"] == "labels" for label in r["value"]["labels"]})
    taxonomy = Taxonomy.from_dict({
        "entities": {"control": "entities", "object": "text", "title_control": "title_entities", "title_object": "title",
                     "labels": [{"name": n} for n in labels]},
        "topics": {"control": "topics", "object": "text", "labels": [{"name": "none"}]}})
    reader = TaskReader(taxonomy, export.name)
    documents = []
    for index, task in enumerate(tasks):
        (record,), _ = reader.read(index, task)  # GUM has one annotator per article: its spans are the gold
        documents.append(GoldDocument(task["data"]["article_id"], task["data"]["text"], task["data"].get("title", ""),
                                      record.entities, record.title_entities))
    return documents, taxonomy.entity_names


def leave_one_out(documents: list[GoldDocument], label_order: list[str]) -> tuple[list[tuple[float, bool]], int]:
    """(score, correct) of every prediction, each article predicted from the others' gold, and the number of gold spans."""
    predictions, gold_total = [], 0
    for held_out in documents:
        others = [d for d in documents if d is not held_out]
        lexicon = GoldLexicon.from_gold(lambda: others, label_order)
        for part, text, spans in (("text", held_out.text, held_out.entities), ("title", held_out.title, held_out.title_entities)):
            gold = {(s.start, s.end, s.label) for s in spans}
            gold_total += len(gold)
            for p in lexicon.predict(text, part):
                predictions.append((p.score, (p.span.start, p.span.end, p.span.label) in gold))
    return predictions, gold_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=GUM / "labelstudio-export.json")
    args = parser.parse_args()
    documents, label_order = gum_documents(args.export)
    predictions, gold_total = leave_one_out(documents, label_order)
    print(f"{len(documents)} articles, {gold_total} gold spans; each article pre-annotated from the gold of the other {len(documents) - 1}")
    print(f"{'min score':>9}  {'predicted':>9}  {'correct':>7}  {'precision':>9}  {'recall':>6}")
    for threshold in THRESHOLDS:
        kept = [correct for score, correct in predictions if score >= threshold]
        correct = sum(kept)
        precision = correct / len(kept) if kept else 0.0
        print(f"{threshold:>9.1f}  {len(kept):>9}  {correct:>7}  {precision:>9.3f}  {correct / gold_total:>6.3f}")


if __name__ == "__main__":
    main()
