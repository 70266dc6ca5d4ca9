"""Given a project's export and its review project's export in annotations/, in either order, the
reviewer's annotation is the article's gold unless ground truth decided it; nothing is erased."""

import pytest
from datasets import load_dataset

from conftest import REPO, annotation, article, new_corpus, pseudonym, run, span, task, topics, write_export, write_jsonl

TEXT = "Maria Lopez joined FC Porto on Monday."
RECORD = article("sport-1", TEXT, "Lopez signs")
MARIA, PORTO, MONDAY = span(0, 11, "PERSON", "Maria Lopez"), span(19, 27, "ORG", "FC Porto"), span(31, 37, "DATE", "Monday")


def review_task(task_id, *annotations):
    reviewed = task(task_id, RECORD, *annotations)
    reviewed["data"]["review"] = {"project": "desk", "tasks": [1], "annotations": [1, 2]}
    return reviewed


@pytest.fixture
def corpus(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON", "ORG", "DATE"], ["politics", "sport"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [RECORD])
    (layout.annotations_dir / "desk").mkdir()
    (layout.annotations_dir / "desk-review").mkdir()
    return layout


def documents(layout) -> dict:
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    dataset = load_dataset(str(release))
    label = next(iter(dataset.values())).features["entities"].feature["label"].int2str
    (row,) = [row for split in dataset.values() for row in split]
    annotations = [row for split in load_dataset(str(release), "annotations").values() for row in split]
    return {"entities": [(e["text"], label(e["label"])) for e in row["entities"]], "resolution": row["resolution"],
            "annotators": row["annotators"], "agreement": row["entity_agreement"],
            "rows": sorted((a["annotator"], a["review"]) for a in annotations), "card": (release / "README.md").read_text()}


@pytest.mark.parametrize("review_name", ["20260102T000000Z.json", "20251231T000000Z.json"], ids=["review-newer", "review-older"])
def test_the_reviewer_decides_whichever_export_is_newer(corpus, review_name):
    write_export(corpus, "desk/20260101T000000Z.json", [
        task(1, RECORD, annotation(1, 11, MARIA, PORTO, MONDAY, topics("sport")), annotation(2, 12, MARIA, topics("sport", "politics")))])
    write_export(corpus, f"desk-review/{review_name}", [review_task(7, annotation(9, 13, MARIA, PORTO, topics("sport")))])
    assert run("validate", "--root", corpus.root).code == 0
    found = documents(corpus)
    assert found["entities"] == [("Maria Lopez", "PERSON"), ("FC Porto", "ORG")]
    assert found["resolution"] == "adjudicated" and found["annotators"] == 2
    assert found["agreement"] == pytest.approx(2 * 1 / (3 + 1))  # the annotators', before adjudication
    assert found["rows"] == sorted([(pseudonym(corpus, 11), False), (pseudonym(corpus, 12), False), (pseudonym(corpus, 13), True)])
    assert "Articles adjudicated by a reviewer: 1." in found["card"]


def test_ground_truth_still_wins_over_a_review(corpus):
    write_export(corpus, "desk/20260101T000000Z.json", [
        task(1, RECORD, annotation(1, 11, MARIA, MONDAY, ground_truth=True), annotation(2, 12, MARIA))])
    write_export(corpus, "desk-review/20260102T000000Z.json", [review_task(7, annotation(9, 13, PORTO))])
    found = documents(corpus)
    assert found["entities"] == [("Maria Lopez", "PERSON"), ("Monday", "DATE")] and found["resolution"] == "ground_truth"
    assert "Articles adjudicated by a reviewer: 0." in found["card"]


def test_a_skipped_review_leaves_the_annotators_majority(corpus):
    write_export(corpus, "desk/20260101T000000Z.json", [
        task(1, RECORD, annotation(1, 11, MARIA, MONDAY), annotation(2, 12, MARIA))])
    write_export(corpus, "desk-review/20260102T000000Z.json", [review_task(7, annotation(9, 13, cancelled=True))])
    found = documents(corpus)
    assert found["entities"] == [("Maria Lopez", "PERSON")] and found["resolution"] == "majority"
