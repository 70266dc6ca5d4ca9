"""Relations between entities: drawn in Label Studio, checked, resolved like spans, released as indexes into `entities`."""

import json

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import REPO, annotation, article, new_corpus, run, task, topics, write_export, write_jsonl

SEED = "ibns-anti-taliban-panjshir"
FAMILY = "Ahmad Massoud, son of Mujahideen commander Ahmad Shah Massoud, met Amrullah Saleh in the Panjshir valley of Afghanistan."
BANO = "Bano district in Baghlan was taken by militias, Tolo News said."


def labelled(result_id: str, text: str, words: str, label: str, nth: int = 0) -> dict:
    """A span result with an id, as Label Studio writes it, at the nth occurrence of `words`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(words, start + 1)
    return {"id": result_id, "from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(words), "labels": [label], "text": words}}


def relation(from_id: str, to_id: str, label: str, direction: str = "right") -> dict:
    return {"from_id": from_id, "to_id": to_id, "type": "relation", "direction": direction, "labels": [label]}


def corpus_of(root, record: dict, entity_labels: list[str] | None = None):
    """A corpus of one article; without entity labels it has the repository's taxonomy (OntoNotes entities, ACE 2005 relations)."""
    layout = new_corpus(root, entity_labels, ["politics"] if entity_labels else None)
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    return layout


def rows(release, config: str) -> list[dict]:
    return [row for split in load_dataset(str(release), config).values() for row in split]


def named(release, config: str = "documents"):
    """Rows with label ids turned back into names, and each relation as (head text, head label, relation, tail text, tail label)."""
    features = next(iter(load_dataset(str(release), config).values())).features
    entity_name = features["entities"].feature["label"].int2str
    relation_name = features["relations"].feature["label"].int2str
    found = []
    for row in rows(release, config):
        ends = [(e["text"], entity_name(e["label"])) for e in row["entities"]]
        found.append((row, {(*ends[r["head"]], relation_name(r["label"]), *ends[r["tail"]]) for r in row["relations"]}))
    return found


@pytest.fixture
def family(tmp_path):
    """One article with nested and crossing spans, relations drawn between them by one annotator."""
    record = article("family-1", FAMILY)
    layout = corpus_of(tmp_path / "c", record)
    results = [
        labelled("son", FAMILY, "Ahmad Massoud", "PERSON"),
        labelled("commander", FAMILY, "Mujahideen commander Ahmad Shah Massoud", "PERSON"),
        labelled("mujahideen", FAMILY, "Mujahideen", "ORG"),  # nested in the commander span
        labelled("father", FAMILY, "Ahmad Shah Massoud", "PERSON"),  # nested too
        labelled("saleh", FAMILY, "Amrullah Saleh", "PERSON"),
        labelled("valley", FAMILY, "Panjshir valley", "LOC"),
        labelled("valley-of", FAMILY, "valley of Afghanistan", "LOC"),  # crosses "Panjshir valley"
        labelled("afghanistan", FAMILY, "Afghanistan", "GPE"),  # nested in the crossing span
        relation("father", "son", "PER-SOC"),  # undirected, drawn from the later span
        relation("father", "mujahideen", "ORG-AFF"),
        relation("saleh", "valley", "PHYS"),
        relation("valley", "afghanistan", "PART-WHOLE"),
        relation("valley-of", "son", "PHYS", direction="left"),  # the arrow points from to_id to from_id
        topics("politics"),
    ]
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(7, 3, *results))])
    return layout


def test_relations_between_nested_and_crossing_spans_point_at_the_spans_the_annotator_linked(family):
    built = run("build", "--version", "1.0.0", "--root", family.root)
    assert built.code == 0, built.err
    release = family.releases_dir / "v1.0.0"
    expected = {
        ("Ahmad Massoud", "PERSON", "PER-SOC", "Ahmad Shah Massoud", "PERSON"),
        ("Ahmad Shah Massoud", "PERSON", "ORG-AFF", "Mujahideen", "ORG"),
        ("Amrullah Saleh", "PERSON", "PHYS", "Panjshir valley", "LOC"),
        ("Panjshir valley", "LOC", "PART-WHOLE", "Afghanistan", "GPE"),
        ("Ahmad Massoud", "PERSON", "PHYS", "valley of Afghanistan", "LOC"),
    }
    ((document, relations),) = named(release)
    assert relations == expected and len(document["relations"]) == 5
    for entity in document["entities"]:
        assert document["text"][entity["start"]:entity["end"]] == entity["text"]
    ((raw, raw_relations),) = named(release, "annotations")
    assert raw_relations == expected
    ner = load_dataset(str(release), "ner")
    assert "relations" not in next(iter(ner.values())).features
    card = (release / "README.md").read_text()
    assert "## Relations" in card and "| PER-SOC | either way |" in card


def test_a_relation_whose_span_was_outvoted_is_dropped_and_counted(tmp_path):
    record = article("bano-1", BANO)
    layout = corpus_of(tmp_path / "c", record)
    spans = lambda bano_words: [labelled("bano", BANO, bano_words, "GPE"), labelled("baghlan", BANO, "Baghlan", "GPE"),
                                labelled("tolo", BANO, "Tolo News", "ORG")]
    agreed = relation("bano", "baghlan", "PART-WHOLE")
    write_export(layout, "2026-01-01.json", [task(1, record,
        annotation(1, 11, *spans("Bano"), agreed),
        annotation(2, 12, *spans("Bano"), agreed),
        annotation(3, 13, *spans("Bano district"), agreed, relation("tolo", "baghlan", "PHYS")))])  # "Bano district": 1 of 3
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    ((document, relations),) = named(release)
    assert document["resolution"] == "majority"
    assert relations == {("Bano", "GPE", "PART-WHOLE", "Baghlan", "GPE")}
    stats = json.loads((release / "manifest.json").read_text())["stats"]
    assert stats["relations_span_outvoted_dropped"] == 1  # annotator 13's relation from "Bano district"
    assert stats["relations_minority_dropped"] == 1  # annotator 13's PHYS: both spans gold, 1 of 3 votes
    card = (release / "README.md").read_text()
    assert "relations_span_outvoted_dropped | 1" in card
    assert "| PART-WHOLE | head → tail |" in card and "| 1 | 0.333 |" in card  # 1 pair of 3 agrees


def test_a_relation_error_names_the_task_the_annotation_and_the_ids(tmp_path):
    record = article("bano-1", BANO)
    layout = corpus_of(tmp_path / "c", record)
    write_export(layout, "2026-01-01.json", [task(5, record, annotation(9, 1, labelled("bano", BANO, "Bano", "GPE"),
                                                                        relation("bano", "gone", "PART-WHOLE"),
                                                                        relation("bano", "bano", "LIVES-IN")))])
    result = run("validate", "--root", layout.root)
    assert result.code == 1 and "Traceback" not in result.err
    errors = [line for line in result.out.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "(task 5, /0/annotations/0/result/1/to_id): [relation-unknown-span] relation 'bano' -> 'gone' of annotation 9" in errors[0]
    assert "(task 5, /0/annotations/0/result/2/labels/0): [unknown-relation-label] relation 'bano' -> 'bano' of annotation 9" in errors[1]
    assert "'LIVES-IN'" in errors[1]


def test_a_taxonomy_without_relations_compiles_as_before_and_reports_relation_results(tmp_path):
    record = article("bano-1", BANO)
    layout = corpus_of(tmp_path / "c", record, ["GPE", "ORG"])
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(1, 1, labelled("bano", BANO, "Bano", "GPE"),
                                                                        labelled("baghlan", BANO, "Baghlan", "GPE"),
                                                                        relation("bano", "baghlan", "PART-WHOLE")))])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"] and [p["code"] for p in report["problems"]] == ["result-ignored"]
    assert "<Relations" not in run("studio", "config", "--root", layout.root).out
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    release = layout.releases_dir / "v1.0.0"
    for config in ("documents", "annotations"):
        assert "relations" not in next(iter(load_dataset(str(release), config).values())).features
    assert "## Relations" not in (release / "README.md").read_text()


def test_diff_sees_a_relation_added_as_a_label_change(tmp_path):
    record = article("bano-1", BANO)
    layout = corpus_of(tmp_path / "c", record)
    spans = [labelled("bano", BANO, "Bano", "GPE"), labelled("baghlan", BANO, "Baghlan", "GPE")]
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(1, 1, *spans))])
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    write_export(layout, "2026-02-01.json", [task(1, record, annotation(2, 1, *spans, relation("bano", "baghlan", "PART-WHOLE")))])
    assert run("build", "--version", "1.1.0", "--root", layout.root).code == 0
    changes = json.loads(run("diff", layout.releases_dir / "v1.0.0", layout.releases_dir / "v1.1.0", "--format", "json").out)
    assert changes["labels_changed"] == ["bano-1"] and changes["text_changed"] == []


def test_the_labeling_config_offers_every_relation_of_the_taxonomy():
    import xml.etree.ElementTree as ET

    config = run("studio", "config", "--root", REPO)
    assert config.code == 0
    taxonomy = json.loads((REPO / "schema" / "taxonomy.json").read_text())
    offered = [r.get("value") for r in ET.fromstring(config.out).iter("Relation")]
    assert offered == [label["name"] for label in taxonomy["relations"]["labels"]]
    assert offered == ["PHYS", "PART-WHOLE", "PER-SOC", "ORG-AFF", "ART", "GEN-AFF"]


def test_the_seeds_relations_in_the_repository_annotations_build(tmp_path):
    """The seed's export pulled from Label Studio carries its relations; built here, not into releases/."""
    built = run("build", "--version", "1.1.0", "--root", REPO, "--out", tmp_path / "releases")
    assert built.code == 0, built.err
    ((document, relations),) = named(tmp_path / "releases" / "v1.1.0")
    assert document["id"] == SEED
    assert {("Ahmad Massoud", "PERSON", "PER-SOC", "Ahmad Shah Massoud", "PERSON"),
            ("Bano", "GPE", "PART-WHOLE", "Baghlan", "GPE")} <= relations
    assert len(document["entities"]) == 49 and len(document["title_entities"]) == 3


@pytest.mark.studio
def test_relations_drawn_in_a_real_label_studio_come_back_through_pull(tmp_path, label_studio):
    layout = corpus_of(tmp_path / "c", article("bano-1", BANO))
    env = label_studio.env()
    assert run("studio", "push", "--project", "Relations", "--root", layout.root, env=env).code == 0
    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title="Relations") if p.title == "Relations"]
    assert "<Relations>" in project.label_config
    (ls_task,) = client.tasks.list(project=project.id)
    annotator = client.users.create(username="rel", email="rel@example.com", password="x-pass-12345")
    client.annotations.create(id=ls_task.id, completed_by=annotator.id, result=[
        labelled("bano", BANO, "Bano", "GPE"), labelled("baghlan", BANO, "Baghlan", "GPE"), labelled("tolo", BANO, "Tolo News", "ORG"),
        relation("baghlan", "bano", "PART-WHOLE", direction="left")])
    pulled = run("studio", "pull", "--project", "Relations", "--root", layout.root, env=env)
    assert pulled.code == 0, pulled.err
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    ((document, relations),) = named(layout.releases_dir / "v1.0.0")
    assert relations == {("Bano", "GPE", "PART-WHOLE", "Baghlan", "GPE")}
