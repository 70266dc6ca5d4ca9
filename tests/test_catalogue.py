"""The catalogue in tests/catalogue: every bad input is refused with its place named, and every
unusual but valid one ends up in the release as documented.

Each case is one file dropped into a small base corpus (tests/catalogue/base): `__corpus.jsonl` as
an extra shard, `__export.json` as a Label Studio export, `__taxonomy.json` as the taxonomy,
`__release.json` as the release settings, `__article-schema.json`, `__export-schema.json` and
`__taxonomy-schema.json` as the corpus's own copy of that schema.
tests/catalogue/expected.json holds the outcome each must produce.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import REPO, run
from newscorpus.layout import Layout

CATALOGUE = Path(__file__).parent / "catalogue"
EXPECTED = json.loads((CATALOGUE / "expected.json").read_text())


def corpus_with(case: Path, root: Path) -> tuple[Layout, str]:
    """The base corpus with the case file in its place; returns the layout and the case's path in it."""
    shutil.copytree(REPO / "schema", root / "schema")
    shutil.copytree(CATALOGUE / "base" / "schema", root / "schema", dirs_exist_ok=True)
    shutil.copytree(CATALOGUE / "base" / "corpus", root / "corpus")
    (root / "annotations").mkdir()
    kind = case.name.split("__")[1]
    place = {"corpus.jsonl": "corpus/case.jsonl", "export.json": "annotations/case.json", "taxonomy.json": "schema/taxonomy.json",
             "release.json": "corpus/release.json", "article-schema.json": "schema/article.schema.json",
             "export-schema.json": "schema/labelstudio-export.schema.json", "taxonomy-schema.json": "schema/taxonomy.schema.json"}[kind]
    shutil.copyfile(case, root / place)
    return Layout(root), place


@pytest.mark.parametrize("name", sorted(EXPECTED["rejected"]))
def test_a_rejected_input_fails_with_its_place_named_and_writes_nothing(name, tmp_path):
    expected = EXPECTED["rejected"][name]
    layout, place = corpus_with(CATALOGUE / "rejected" / name, tmp_path / "corpus")
    result = run("validate", "--root", layout.root)
    assert result.code == 1, result.out
    lines = [l for l in result.out.splitlines() if f"[{expected['problem']}]" in l and l.startswith(f"error: {place}")]
    assert lines, f"no {expected['problem']} error for {place} in:\n{result.out}"
    assert any(expected["where"] in l for l in lines), lines
    if expected.get("alone"):  # nothing else is checked against it: no cascade of errors it caused
        assert result.out.count("error: ") == 1, result.out
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 1 and f"[{expected['problem']}]" in built.err
    for output in (result.out + result.err, built.out + built.err):
        assert "Traceback" not in output
    assert not layout.releases_dir.exists() or list(layout.releases_dir.iterdir()) == []


PSEUDONYM = re.compile(r"(annotator|anonymous)-[0-9a-f]{12}")


def same_annotator_letters(annotators: list[str]) -> list[str]:
    """Pseudonyms as letters by first appearance: ["a", "a", "b"] says the first two rows share an annotator."""
    letters: dict[str, str] = {}
    return [letters.setdefault(name, "abcdefghijklmnopqrstuvwxyz"[len(letters)]) for name in annotators]


def rows(release: Path, config: str) -> list[dict]:
    if not (release / config).exists():
        return []
    return [row for split in load_dataset(str(release), config).values() for row in split]


@pytest.mark.parametrize("name", sorted(EXPECTED["accepted"]))
def test_an_unusual_input_is_compiled_as_documented(name, tmp_path):
    expected = EXPECTED["accepted"][name]
    layout, _ = corpus_with(CATALOGUE / "accepted" / name, tmp_path / "corpus")
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"], report["problems"]
    assert sorted({p["code"] for p in report["problems"]}) == sorted(expected["warnings"])
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    taxonomy = json.loads((layout.root / "schema" / "taxonomy.json").read_text())
    entity_names = [l["name"] for l in taxonomy["entities"]["labels"]]
    topic_names = [l["name"] for l in taxonomy.get("topics", {"labels": []})["labels"]]
    relation_names = [l["name"] for l in taxonomy.get("relations", {}).get("labels", [])]
    documents = {row["id"]: row for row in rows(release, "documents")}
    assert sorted(documents) == sorted(expected["documents"])
    for article_id, want in expected["documents"].items():
        row = documents[article_id]
        spans = lambda key: sorted([e["start"], e["end"], entity_names[e["label"]], e["text"]] for e in row[key])
        assert spans("entities") == sorted(want["entities"])
        assert spans("title_entities") == sorted(want.get("title_entities", []))
        assert [topic_names[t] for t in row["topics"]] == want["topics"]
        entity = lambda i: [*(row["entities"][i][k] for k in ("start", "end")), entity_names[row["entities"][i]["label"]], row["entities"][i]["text"]]
        assert sorted([entity(r["head"]), relation_names[r["label"]], entity(r["tail"])] for r in row.get("relations", [])) == sorted(want.get("relations", []))
        if "links" in want:
            assert sorted([e["start"], e["end"], e["kb_id"]] for e in row["entities"]) == sorted(want["links"])
        for e in row["entities"]:
            assert row["text"][e["start"]:e["end"]] == e["text"]
        if "resolution" in expected:
            assert row["resolution"] == expected["resolution"]
    annotations = sorted(rows(release, "annotations"), key=lambda r: (r["article_id"], r["annotation_id"]))
    for row in annotations:
        assert PSEUDONYM.fullmatch(row["annotator"]), row["annotator"]
    if "annotators" in expected:
        assert same_annotator_letters([r["annotator"] for r in annotations]) == expected["annotators"]
    if "annotation_ids" in expected:
        assert [r["annotation_id"] for r in annotations] == expected["annotation_ids"]
    stats = json.loads((release / "manifest.json").read_text())["stats"]
    for key, value in expected.get("stats", {}).items():
        assert stats[key] == value, key


def test_a_taxonomy_label_with_xml_characters_is_escaped_in_the_labeling_config(tmp_path):
    from label_studio_sdk.label_interface import LabelInterface

    layout, _ = corpus_with(CATALOGUE / "accepted" / "taxonomy-xml-special-characters__taxonomy.json", tmp_path / "corpus")
    config = run("studio", "config", "--root", layout.root)
    assert config.code == 0
    assert 'value="R&amp;D &lt;Lab&gt; &quot;X&quot;"' in config.out
    assert 'R&D <Lab> "X"' in LabelInterface(config.out).get_control("entities").labels
