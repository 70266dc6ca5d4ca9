"""News in any script: articles in Chinese, Japanese and Thai keep every entity in `ner`, a declared
language that cannot be right is named by `validate`, and a card says which languages a release holds."""

import json
import re
from pathlib import Path

import yaml
from datasets import load_dataset

from conftest import new_corpus, run, write_jsonl

LABELS = ["PERSON", "GPE", "ORG"]
CHINESE_AND_JAPANESE = "北京市的习近平访问了上海。\n東京都の小池百合子知事が記者会見を開いた。"
THAI = "นายกรัฐมนตรีเดินทางไปเชียงใหม่\nธนาคารแห่งประเทศไทยประกาศนโยบาย"
ENTITIES = {"asia-1": [("北京市", "GPE"), ("习近平", "PERSON"), ("上海", "GPE"), ("東京都", "GPE"), ("小池百合子", "PERSON")],
            "thai-1": [("เชียงใหม่", "GPE"), ("ธนาคารแห่งประเทศไทย", "ORG")]}


def labelled_task(task_id: int, article_id: str, title: str, text: str, language: str | None) -> dict:
    results = [{"id": f"r{n}", "from_name": "entities", "to_name": "text", "type": "labels",
                "value": {"start": text.index(name), "end": text.index(name) + len(name), "labels": [label], "text": name}}
               for n, (name, label) in enumerate(ENTITIES[article_id])]
    data = {"article_id": article_id, "title": title, "text": text} | ({"language": language} if language else {})
    return {"id": task_id, "data": data, "annotations": [{"id": task_id, "completed_by": 1, "result": results}]}


def imported_corpus(tmp_path: Path, languages: dict[str, str | None]) -> Path:
    """A new corpus with a Label Studio export of the two articles imported, each task declaring the given language or none."""
    root = new_corpus(tmp_path / "corpus", LABELS).root
    export = tmp_path / "project-1.json"
    export.write_text(json.dumps([labelled_task(1, "asia-1", "新闻", CHINESE_AND_JAPANESE, languages["asia-1"]),
                                  labelled_task(2, "thai-1", "ข่าว", THAI, languages["thai-1"])], ensure_ascii=False))
    imported = run("import", export, "--source", "Asia Wire", "--root", root)
    assert imported.code == 0, imported.err
    return root


def test_chinese_japanese_and_thai_entities_are_all_bio_runs_in_ner(tmp_path):
    root = imported_corpus(tmp_path, {"asia-1": "zh", "thai-1": "th"})
    report = json.loads(run("validate", "--root", root, "--format", "json").out)
    assert report["valid"] and not [p for p in report["problems"] if p["code"] == "language-script-mismatch"], report["problems"]
    built = run("build", "--version", "1.0.0", "--root", root)
    assert built.code == 0, built.err
    release = root / "releases" / "v1.0.0"
    stats = json.loads((release / "manifest.json").read_text())["stats"]
    assert stats["ner_spans_kept"] == stats["ner_spans"] == 7 and stats.get("ner_dropped_no_whole_token", 0) == 0
    ner = load_dataset(str(release), "ner")
    names = next(iter(ner.values())).features["ner_tags"].feature.names
    found = {"asia-1": [], "thai-1": []}
    for row in (row for split in ner.values() for row in split if row["part"] == "text"):
        text = CHINESE_AND_JAPANESE if row["article_id"] == "asia-1" else THAI
        for token, start, end, tag in zip(row["tokens"], row["token_start"], row["token_end"], row["ner_tags"]):
            assert text[start:end] == token
            if names[tag].startswith("B-"):
                found[row["article_id"]].append([start, end, names[tag][2:]])
            elif names[tag].startswith("I-"):
                assert found[row["article_id"]][-1][1] == start and found[row["article_id"]][-1][2] == names[tag][2:]
                found[row["article_id"]][-1][1] = end
    for article_id, text in (("asia-1", CHINESE_AND_JAPANESE), ("thai-1", THAI)):
        assert [(text[start:end], label) for start, end, label in found[article_id]] == ENTITIES[article_id]


def test_an_article_imported_without_its_language_is_en_and_validate_names_it(tmp_path):
    root = imported_corpus(tmp_path, {"asia-1": None, "thai-1": "th"})
    shard = (root / "corpus" / "asia-wire.jsonl").read_text().splitlines()
    assert [json.loads(line)["language"] for line in shard] == ["en", "th"]  # import's default, as add's
    validated = run("validate", "--root", root)
    assert validated.code == 0, validated.out  # a warning: the article still builds
    (warning,) = [line for line in validated.out.splitlines() if "[language-script-mismatch]" in line]
    assert warning.startswith("warning: corpus/asia-wire.jsonl (line 1, /language)")
    assert "Latin (Latn)" in warning and "Han (Hani)" in warning
    github = run("validate", "--root", root, "--format", "github").out
    assert "::warning file=corpus/asia-wire.jsonl,line=1,title=language-script-mismatch::" in github


def test_a_language_tag_the_registry_does_not_know_is_refused_with_its_place_named(tmp_path):
    root = new_corpus(tmp_path / "corpus", LABELS).root
    record = {"id": "x-1", "title": "Weather", "text": "Rain on Monday.", "language": "en-Klingon"}  # the shape of a tag, no registered one
    write_jsonl(tmp_path / "articles.jsonl", [record])
    added = run("add", tmp_path / "articles.jsonl", "--source", "Wire", "--root", root)
    assert added.code == 1 and "articles.jsonl (line 1, /language): [unknown-language]" in added.err, added.err
    assert not (root / "corpus" / "wire.jsonl").exists()
    write_jsonl(root / "corpus" / "wire.jsonl", [record | {"source": "Wire"}])  # written by hand
    validated = run("validate", "--root", root)
    assert validated.code == 1 and "error: corpus/wire.jsonl (line 1, /language): [unknown-language]" in validated.out
    assert "Traceback" not in added.err + validated.out + validated.err


EUROPE = {"de": ("Berlin", "Angela Merkel besuchte Berlin am Montag."), "fr": ("Paris", "Emmanuel Macron a visité Paris lundi."),
          "sv": ("Stockholm", "Ulf Kristersson besökte Stockholm i måndags.")}


def test_the_card_of_a_german_french_and_swedish_corpus_is_multilingual_with_a_row_per_language(tmp_path):
    layout = new_corpus(tmp_path / "corpus", LABELS)
    records = [{"id": f"{language}-{n}", "title": f"{city} {n}", "text": text, "source": "Europe Wire", "language": language}
               for language, (city, text) in EUROPE.items() for n in range(1 + (language == "sv"))]
    write_jsonl(layout.corpus_dir / "europe-wire.jsonl", records)
    tasks = [{"id": k, "data": {"article_id": r["id"], "title": r["title"], "text": r["text"]},
              "annotations": [{"id": k, "completed_by": 1, "result": [
                  {"id": f"r{k}", "from_name": "entities", "to_name": "text", "type": "labels",
                   "value": {"start": r["text"].index(city), "end": r["text"].index(city) + len(city), "labels": ["GPE"], "text": city}}]}]}
             for k, r in enumerate(records[:3], 1) for city in [EUROPE[r["language"]][0]]]
    (layout.annotations_dir / "europe.json").write_text(json.dumps(tasks, ensure_ascii=False))
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    card = (layout.releases_dir / "v1.0.0" / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert header["language"] == ["de", "fr", "sv"] and header["multilinguality"] == "multilingual"
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (\d+) \| (\d+) \| (\d+) \|$", card, re.MULTILINE)
    assert rows == [("de", "German", "1", "1", "1"), ("fr", "French", "1", "1", "1"), ("sv", "Swedish", "2", "1", "1")]


def test_only_a_language_whose_script_cannot_be_right_is_warned_about(tmp_path):
    layout = new_corpus(tmp_path / "corpus", LABELS)
    languages_and_texts = [
        ("sr", "Beograd je glavni grad Srbije."),  # Serbian is Cyrillic unless the tag says otherwise: warned
        ("sr-Latn", "Beograd je glavni grad Srbije."),
        ("ru", "Президент посетил Пекин (北京) и Токио."),
        ("en", "Xi Jinping (习近平) visited Tokyo (東京)."),  # a few names in another script: most letters are Latin
        ("ja", "東京都の小池百合子知事がコーヒーを飲んだ。"),
        ("und", "北京市的习近平访问了上海。"),  # undetermined: nothing to compare
        ("ain", "アイヌ イタㇰ"),  # a registered language with no usual script in CLDR: nothing to compare
        ("th", "กรุงเทพมหานคร ๒๕๖๗"),
    ]
    write_jsonl(layout.corpus_dir / "wire.jsonl", [{"id": f"a-{n}", "title": "-", "text": text, "source": "Wire", "language": language}
                                                   for n, (language, text) in enumerate(languages_and_texts, 1)])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"], report["problems"]
    assert [(p["code"], p["line"], p["pointer"]) for p in report["problems"]] == [("language-script-mismatch", 1, "/language")]
