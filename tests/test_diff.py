"""`newscorpus diff` down to labels: per label the spans added, removed, relabelled and moved, relations and
topics added and removed, annotator pseudonyms that appear and disappear; the card's changelog says the same."""

import json

from conftest import REPO, annotation, article, new_corpus, pseudonym, run, task, topics, write_export, write_jsonl

TEXT = "Ahmad Massoud met Amrullah Saleh in Kabul on Monday, Tolo News said."


def labelled(result_id: str, words: str, label: str) -> dict:
    start = TEXT.index(words)
    return {"id": result_id, "from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(words), "labels": [label], "text": words}}


def relation(from_id: str, to_id: str, label: str) -> dict:
    return {"from_id": from_id, "to_id": to_id, "type": "relation", "direction": "right", "labels": [label]}


def test_v1_1_0_against_v1_0_0_counts_the_six_added_relations_by_label_and_the_new_pseudonyms():
    result = run("diff", REPO / "releases" / "v1.0.0", REPO / "releases" / "v1.1.0", "--format", "json")
    assert result.code == 0, result.err
    changes = json.loads(result.out)
    assert changes["relations"] == {"ORG-AFF": {"added": 1, "removed": 0}, "PART-WHOLE": {"added": 2, "removed": 0},
                                    "PER-SOC": {"added": 1, "removed": 0}, "PHYS": {"added": 2, "removed": 0}}
    assert changes["spans"] == {} and changes["topics"] == {} and changes["labels_changed"] == ["ibns-anti-taliban-panjshir"]
    assert changes["annotators"] == {"appeared": ["annotator-313b9268bc5e"], "disappeared": ["user:3"]}
    detail = changes["articles"]["ibns-anti-taliban-panjshir"]
    assert len(detail["relations"]["added"]) == 6 and detail["relations"]["removed"] == []
    assert {"label": "PER-SOC", "head": {"start": 1014, "end": 1027, "label": "PERSON", "text": "Ahmad Massoud"},
            "tail": {"start": 1076, "end": 1094, "label": "PERSON", "text": "Ahmad Shah Massoud"}} in detail["relations"]["added"]
    text = run("diff", REPO / "releases" / "v1.0.0", REPO / "releases" / "v1.1.0")
    assert "| PHYS | 2 | 0 |" in text.out and "annotator pseudonyms appeared: 1" in text.out and "articles" not in text.out


def test_each_kind_of_label_change_is_counted_under_its_label_and_the_card_shows_the_counts(tmp_path):
    layout = new_corpus(tmp_path / "c")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    record = article("kabul-1", TEXT)
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    first = [labelled("ahmad", "Ahmad Massoud", "PERSON"), labelled("saleh", "Amrullah Saleh", "PERSON"),
             labelled("kabul", "Kabul", "GPE"), labelled("tolo", "Tolo", "ORG"), relation("ahmad", "saleh", "PER-SOC"), topics("politics")]
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(1, 1, *first))])
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    second = [labelled("ahmad", "Ahmad Massoud", "PERSON"), labelled("saleh", "Amrullah Saleh", "ORG"),  # relabelled
              labelled("kabul", "Kabul", "GPE"), labelled("tolo", "Tolo News", "ORG"),  # boundary moved
              labelled("monday", "Monday", "DATE"),  # added
              relation("ahmad", "kabul", "PHYS"), topics("politics", "conflict, war and peace")]
    write_export(layout, "2026-02-01.json", [task(1, record, annotation(2, 2, *second))])
    assert run("build", "--version", "1.1.0", "--root", layout.root).code == 0

    result = run("diff", layout.releases_dir / "v1.0.0", layout.releases_dir / "v1.1.0", "--format", "json")
    assert result.code == 0, result.err
    changes = json.loads(result.out)
    zero = dict.fromkeys(["added", "removed", "relabelled_from", "relabelled_to", "boundary_moved"], 0)
    assert changes["spans"] == {"PERSON": {**zero, "relabelled_from": 1}, "ORG": {**zero, "relabelled_to": 1, "boundary_moved": 1},
                                "DATE": {**zero, "added": 1}}
    assert changes["relabellings"] == [{"from": "PERSON", "to": "ORG", "spans": 1}]
    assert changes["relations"] == {"PER-SOC": {"added": 0, "removed": 1}, "PHYS": {"added": 1, "removed": 0}}
    assert changes["topics"] == {"conflict, war and peace": {"added": 1, "removed": 0}}
    assert changes["annotators"] == {"appeared": [pseudonym(layout, 2)], "disappeared": [pseudonym(layout, 1)]}
    spans = changes["articles"]["kabul-1"]["spans"]
    assert spans["relabelled"] == [{"part": "text", "start": 18, "end": 32, "text": "Amrullah Saleh", "from": "PERSON", "to": "ORG"}]
    assert [(m["from"]["text"], m["to"]["text"]) for m in spans["boundary_moved"]] == [("Tolo", "Tolo News")]
    assert [s["text"] for s in spans["added"]] == ["Monday"] and spans["removed"] == []

    card = (layout.releases_dir / "v1.1.0" / "README.md").read_text()
    changelog = card[card.index("### Changelog"):]
    assert "| ORG | 0 | 0 | 0 | 1 | 1 |" in changelog and "| PHYS | 1 | 0 |" in changelog
    assert "Relabelled spans: PERSON → ORG (1)" in changelog and "annotator pseudonyms disappeared: 1" in changelog
