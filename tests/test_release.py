"""Given a validated corpus, `newscorpus build` writes a release that plain `load_dataset` reads."""

import json
import shutil

from datasets import load_dataset

from conftest import REPO, annotation, article, new_corpus, run, span, task, topics, with_release_settings, write_export, write_jsonl

CONFIGS = ["documents", "ner", "articles", "annotations"]


def all_rows(release, config):
    loaded = load_dataset(str(release), config)
    return [row for split in loaded.values() for row in split], loaded


def test_every_gum_span_survives_into_documents_exactly(gum_release):
    layout, release = gum_release
    export = json.loads((layout.annotations_dir / "gum-2026-11-24T152229.json").read_text())
    expected = {(t["data"]["article_id"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                for t in export for a in t["annotations"] for r in a["result"]}
    rows, loaded = all_rows(release, "documents")
    names = loaded["train"].features["entities"].feature["label"].names
    got = set()
    for row in rows:
        for e in row["entities"]:
            assert e["text"] == row["text"][e["start"]:e["end"]]
            got.add((row["id"], e["start"], e["end"], names[e["label"]]))
    assert len(expected) == 4877 and got == expected


def test_ner_accounts_for_every_span_it_dropped(gum_release):
    _, release = gum_release
    stats = json.loads((release / "manifest.json").read_text())["stats"]
    dropped = sum(v for k, v in stats.items() if k.startswith("ner_dropped_"))
    assert stats["ner_spans"] == 4877
    assert stats["ner_spans_kept"] + dropped == 4877
    rows, loaded = all_rows(release, "ner")
    tag_names = loaded["train"].features["ner_tags"].feature.names
    begins = sum(1 for row in rows for t in row["ner_tags"] if tag_names[t].startswith("B-"))
    assert begins == stats["ner_spans_kept"]
    assert "ner_dropped_nested" in (release / "README.md").read_text()


def test_all_four_configs_load_with_taxonomy_classlabels(gum_release):
    _, release = gum_release
    for config in CONFIGS:
        loaded = load_dataset(str(release), config)
        assert sum(len(s) for s in loaded.values()) > 0
    docs = load_dataset(str(release), "documents")["train"]
    assert docs.features["entities"].feature["label"].names[:3] == ["person", "place", "organization"]
    assert docs.features["topics"].feature.names == ["politics", "sport", "science and technology"]
    assert not list(release.rglob("*.py"))


def test_rebuilding_the_same_inputs_gives_identical_bytes_and_the_version_is_refused(gum_release, tmp_path):
    layout, release = gum_release
    again = run("build", "--version", "1.0.0", "--root", layout.root, "--out", tmp_path / "again")
    assert again.code == 0, again.err
    files = sorted(p.relative_to(release) for p in release.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "again" / "v1.0.0") for p in (tmp_path / "again" / "v1.0.0").rglob("*") if p.is_file())
    for f in files:
        assert (release / f).read_bytes() == (tmp_path / "again" / "v1.0.0" / f).read_bytes(), f
    refused = run("build", "--version", "1.0.0", "--root", layout.root)
    assert refused.code == 1 and "immutable" in refused.err and "Traceback" not in refused.err


def test_verify_passes_on_a_fresh_release_and_fails_after_a_byte_changes(gum_release, tmp_path):
    layout, release = gum_release
    copy = tmp_path / "releases" / "v1.0.0"
    shutil.copytree(release, copy)
    ok = run("verify", copy, "--root", layout.root)
    assert ok.code == 0, ok.out + ok.err
    shard = copy / "documents" / "train-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    bad = run("verify", copy, "--root", layout.root)
    assert bad.code == 1 and "documents/train-00000-of-00001.parquet" in bad.out


def test_verify_names_a_file_the_manifest_does_not_list(gum_release, tmp_path):
    """A shard slipped into a release breaks load_dataset; verify must not call that release verified."""
    layout, release = gum_release
    copy = tmp_path / "releases" / "v1.0.0"
    shutil.copytree(release, copy)
    shard = next((copy / "ner").glob("train-*.parquet"))
    shutil.copy(shard, copy / "ner" / "train-00001-of-00001.parquet")
    (copy / "notes.txt").write_text("x")
    bad = run("verify", copy, "--root", layout.root)
    assert bad.code == 1 and "verified" not in bad.out
    assert "ner/train-00001-of-00001.parquet: not in the manifest" in bad.out and "notes.txt: not in the manifest" in bad.out


def test_the_card_yaml_matches_the_files(gum_release):
    _, release = gum_release
    import yaml

    card = yaml.safe_load((release / "README.md").read_text().split("---")[1])
    manifest = json.loads((release / "manifest.json").read_text())
    rows = {f["path"]: f["rows"] for f in manifest["files"] if f.get("rows") is not None}
    for info in card["dataset_info"]:
        for split in info["splits"]:
            assert split["num_examples"] == rows[f"{info['config_name']}/{split['name']}-00000-of-00001.parquet"]


def test_croissant_validates_and_its_records_load(gum_release):
    import mlcroissant as mlc

    _, release = gum_release
    dataset = mlc.Dataset(jsonld=str(release / "croissant.json"))
    records = list(dataset.records(record_set="articles"))
    assert len(records) == 24


def small_corpus(root, texts):
    layout = with_release_settings(new_corpus(root, ["PERSON", "ORG"], ["politics", "sport"]))
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article(f"a{i:03d}", t) for i, t in enumerate(texts)])
    return layout


def test_a_one_article_corpus_builds_and_loads(tmp_path):
    layout = small_corpus(tmp_path / "c", ["Alice met Bob at Acme."])
    record = article("a000", "Alice met Bob at Acme.")
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(1, 1, span(0, 5, "PERSON", "Alice"), span(17, 21, "ORG", "Acme"), topics("politics")))])
    assert run("build", "--version", "0.1.0", "--root", layout.root).code == 0
    docs = load_dataset(str(layout.releases_dir / "v0.1.0"))
    (split,) = docs.values()
    assert [(e["start"], e["end"], e["text"]) for e in split[0]["entities"]] == [(0, 5, "Alice"), (17, 21, "Acme")]
    assert split[0]["topics"] == [0]


def test_adding_articles_never_moves_an_existing_one_between_splits(tmp_path):
    words = "the quick brown fox jumps over a lazy dog while reporters watch the council vote on the budget".split()
    texts = [" ".join(words[i % 7:] + words[: i % 7]) + f" story number {i} about item {i * 7}" for i in range(40)]
    layout = small_corpus(tmp_path / "c", texts)
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    first = json.loads((layout.releases_dir / "v1.0.0" / "manifest.json").read_text())["splits"]
    more = [article(f"a{i:03d}", f"entirely new report {i} on harvest festivals and river floods in spring {i}") for i in range(40, 80)]
    near_duplicate_with_smaller_id = article("a", texts[5] + " updated")
    with (layout.corpus_dir / "wire.jsonl").open("a") as handle:
        for record in [*more, near_duplicate_with_smaller_id]:
            handle.write(json.dumps(record) + "\n")
    assert run("build", "--version", "1.1.0", "--root", layout.root).code == 0
    second = json.loads((layout.releases_dir / "v1.1.0" / "manifest.json").read_text())["splits"]
    assert {k: second[k] for k in first} == first
    assert second["a"] == first["a005"]
    diff = run("diff", layout.releases_dir / "v1.0.0", layout.releases_dir / "v1.1.0", "--format", "json")
    assert len(json.loads(diff.out)["added"]) == 41


def test_the_manifest_follows_its_schema(gum_release):
    import jsonschema_rs

    _, release = gum_release
    schema = json.loads((REPO / "schema" / "manifest.schema.json").read_text())
    manifest = json.loads((release / "manifest.json").read_text())
    jsonschema_rs.Draft202012Validator(schema).validate(manifest)
    assert len(manifest["splits"]) == 24 and {i["path"] for i in manifest["inputs"]} >= {"schema/taxonomy.json", "corpus/release.json"}
