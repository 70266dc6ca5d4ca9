"""Given a new folder, `init` + `add` + `import` make a corpus that builds, with every annotated
offset exactly where it was: from records, from Label Studio exports of any shape, from HTML."""

import csv
import json
from pathlib import Path

from datasets import load_dataset

from conftest import GUM, GUM_LABELS, new_corpus, run, write_taxonomy

GUM_EXPORT = json.loads((GUM / "labelstudio-export.json").read_text())
GUM_SPANS = 4877


def gum_records() -> list[dict]:
    """The 24 GUM articles as a scraper would hand them over: one record per article."""
    records = []
    for meta_path in sorted(GUM.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text())
        text = (GUM / meta_path.name.replace(".meta.json", ".txt")).read_text()
        records.append({"id": meta["article_id"], "title": meta["title"], "text": text, "url": meta["url"],
                        "published": meta["published"], "language": meta["language"], "license": meta["license"]})
    return records


def labels_config(labels: list[str], choices: list[str] = (), text_key: str = "text") -> str:
    xml = '<View><Labels name="entities" toName="text">' + "".join(f'<Label value="{l}"/>' for l in labels) + "</Labels>"
    xml += f'<Text name="text" value="${text_key}"/>'
    if choices:
        xml += '<Choices name="topics" toName="text" choice="multiple">' + "".join(f'<Choice value="{c}"/>' for c in choices) + "</Choices>"
    return xml + "</View>"


def documents(release: Path, cache: Path) -> dict[str, dict]:
    loaded = load_dataset(str(release), "documents", cache_dir=str(cache))
    names = next(iter(loaded.values())).features["entities"].feature["label"].names
    return {row["id"]: {**row, "labels": names} for split in loaded.values() for row in split}


def spans_of(rows: dict[str, dict]) -> set[tuple]:
    return {(article_id, e["start"], e["end"], row["labels"][e["label"]], e["text"]) for article_id, row in rows.items() for e in row["entities"]}


def expected_spans(tasks: list[dict], id_of) -> set[tuple]:
    return {(id_of(t), r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
            for t in tasks for a in t.get("annotations", t.get("completions", [])) for r in a["result"]}


def test_gum_goes_in_with_init_one_add_and_its_export_and_builds_every_span_exactly(tmp_path):
    write_taxonomy(tmp_path, GUM_LABELS)
    root = tmp_path / "gum"
    assert run("init", root, "--taxonomy", tmp_path / "schema" / "taxonomy.json").code == 0
    records = tmp_path / "gum.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in gum_records()))
    added = run("add", records, "--source", "Wikinews", "--root", root)
    assert added.code == 0, added.err
    assert "added 24 articles to corpus/wikinews.jsonl" in added.out
    imported = run("import", GUM / "labelstudio-export.json", "--source", "Wikinews", "--root", root)
    assert imported.code == 0, imported.err
    assert "24 tasks: 0 articles added, 24 already in the corpus" in imported.out
    built = run("build", "--version", "1.0.0", "--root", root)
    assert built.code == 0, built.err
    assert "settings-default" not in built.err  # init wrote the settings files
    rows = documents(root / "releases" / "v1.0.0", tmp_path / "cache")
    assert len(rows) == 24
    got = spans_of(rows)
    assert len(expected_spans(GUM_EXPORT, lambda t: t["data"]["article_id"])) <= GUM_SPANS
    assert got == expected_spans(GUM_EXPORT, lambda t: t["data"]["article_id"])
    assert sum(len(r["entities"]) for r in rows.values()) == GUM_SPANS
    for row in rows.values():
        assert all(row["text"][e["start"]:e["end"]] == e["text"] for e in row["entities"])


def old_style_tasks(count: int) -> list[dict]:
    """GUM tasks as Label Studio 0.x wrote them: `completions`, epoch times, no article_id, no title."""
    return [{"id": 100 + i, "data": {"text": t["data"]["text"]},
             "completions": [{"id": 500 + i, "lead_time": 12.5, "created_at": 1589802125 + i, "result": t["annotations"][0]["result"]}]}
            for i, t in enumerate(GUM_EXPORT[:count])]


def test_a_0x_export_without_article_ids_goes_in_with_its_label_config_and_builds_every_span_exactly(tmp_path):
    root, config = tmp_path / "old", tmp_path / "config.xml"
    config.write_text(labels_config(GUM_LABELS))
    initialised = run("init", root, "--label-config", config)
    assert initialised.code == 0, initialised.err
    taxonomy = json.loads((root / "schema" / "taxonomy.json").read_text())
    assert [l["name"] for l in taxonomy["entities"]["labels"]] == GUM_LABELS and "topics" not in taxonomy
    tasks = old_style_tasks(3)
    folder = tmp_path / "export"  # one task per file, as Label Studio 0.x wrote them
    folder.mkdir()
    for task in tasks:
        (folder / f"{task['id']}.json").write_text(json.dumps(task))
    imported = run("import", folder, "--source", "Old Wire", "--root", root)
    assert imported.code == 0, imported.err
    (stored,) = [p for p in (root / "annotations" / "old-wire").glob("*.json") if not p.name.startswith(".")]
    assert stored.name.startswith("20200518T")  # named by its newest annotation, as a pull would be
    audit = json.loads((stored.parent / f".{stored.stem}.import.json").read_text())
    assert sorted(a["file"] for a in audit["imported"]) == ["100.json", "101.json", "102.json"] and audit["shapes"] == ["0.x completions, one task"]
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = run("import", folder, "--source", "Old Wire", "--root", root)
    assert again.code == 0 and "already imported; nothing written" in again.out
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert run("studio", "config", "--root", root).out.count("<Choices") == 0
    built = run("build", "--version", "1.0.0", "--root", root)
    assert built.code == 0, built.err
    rows = documents(root / "releases" / "v1.0.0", tmp_path / "cache")
    assert sorted(rows) == ["old-wire-task-100", "old-wire-task-101", "old-wire-task-102"]
    assert spans_of(rows) == expected_spans(tasks, lambda t: f"old-wire-task-{t['id']}")
    first = rows["old-wire-task-100"]
    assert first["text"] == tasks[0]["data"]["text"] and first["title"] == "Friday, July 21, 2017" and first["topics"] == []


def test_a_1x_export_with_its_text_under_another_key_goes_in_with_text_key(tmp_path):
    root = tmp_path / "c"
    write_taxonomy(tmp_path, GUM_LABELS)
    assert run("init", root, "--taxonomy", tmp_path / "schema" / "taxonomy.json").code == 0
    tasks = [{"id": t["id"], "data": {"body": t["data"]["text"], "headline": t["data"]["title"], "doc": t["data"]["article_id"]},
              "annotations": t["annotations"]} for t in GUM_EXPORT[:2]]
    export = tmp_path / "project-1-at-2026.json"
    export.write_text(json.dumps(tasks))
    refused = run("import", export, "--source", "Wikinews", "--root", root)
    assert refused.code == 1 and "[field-missing]" in refused.err and f"task {tasks[0]['id']}" in refused.err and "--text-key" in refused.err
    assert "Traceback" not in refused.err and not list((root / "corpus").glob("*.jsonl"))
    imported = run("import", export, "--source", "Wikinews", "--text-key", "body", "--title-key", "headline", "--id-from", "doc", "--root", root)
    assert imported.code == 0, imported.err
    (stored,) = [p for p in (root / "annotations" / "wikinews").glob("*.json") if not p.name.startswith(".")]
    stored_tasks = json.loads(stored.read_text())
    assert [t["data"]["article_id"] for t in stored_tasks] == [t["data"]["doc"] for t in tasks]
    assert [t["data"]["text"] for t in stored_tasks] == [t["data"]["body"] for t in tasks]
    report = json.loads(run("validate", "--root", root, "--format", "json").out)
    assert report["valid"] and report["checked"]["annotations"] == 2, report["problems"]


def test_annotated_text_with_crlf_is_refused_with_its_task_named_and_nothing_is_written(tmp_path):
    root = tmp_path / "c"
    write_taxonomy(tmp_path, ["PERSON"])
    assert run("init", root, "--taxonomy", tmp_path / "schema" / "taxonomy.json").code == 0
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": 7, "data": {"text": "Ann met Bob.\r\nThen left."}, "annotations": []}]))
    result = run("import", export, "--source", "Wire", "--root", root)
    assert result.code == 1 and "[text-not-exact]" in result.err and "task 7" in result.err and "/0/data/text" in result.err
    assert not list((root / "corpus").glob("*.jsonl")) and not list((root / "annotations").glob("*/*.json"))


NEWS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Flood waters recede in Riverton | Daily Planet</title>
<meta property="og:title" content="Flood waters recede in Riverton">
<meta name="author" content="Lois Lane">
<meta property="article:published_time" content="2024-03-05T08:00:00Z"></head>
<body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience on our site. Accept all cookies or manage your preferences.</p></div>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main><article>
<h1>Flood waters recede in Riverton</h1>
<p>Flood waters in Riverton began to recede on Tuesday after three days of heavy rain forced hundreds of residents from their homes along the river.</p>
<p>Mayor Ana Ruiz said emergency crews would start clearing debris from the main bridge on Wednesday, and that schools would stay closed until the end of the week.</p>
<p>The regional weather service expects drier conditions for the rest of the month, although officials warned that the ground remains saturated.</p>
<p>Support the Daily Planet</p>
<p>Readers like you keep our reporting free for everyone.</p>
</article></main>
<footer class="site-footer"><p>Copyright 2024 Daily Planet. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_an_html_page_gives_the_article_body_without_navigation_cookie_banner_footer_or_publisher_appeal(tmp_path):
    root = tmp_path / "c"
    assert run("init", root).code == 0
    (root / "corpus" / "boilerplate.json").write_text(json.dumps({"Daily Planet": {"cut_from_line": ["Support the Daily Planet"]}}))
    page = tmp_path / "riverton.html"
    page.write_text(NEWS_PAGE)
    result = run("add", page, "--source", "Daily Planet", "--root", root)
    assert result.code == 0, result.err
    (record,) = [json.loads(l) for l in (root / "corpus" / "daily-planet.jsonl").read_text().splitlines()]
    assert record["id"] == "daily-planet-flood-waters-recede-in-riverton"
    assert record["title"] == "Flood waters recede in Riverton"
    assert record["published"] == "2024-03-05" and record["authors"] == ["Lois Lane"]
    assert record["text"].startswith("Flood waters in Riverton began to recede on Tuesday")
    assert record["text"].endswith("the ground remains saturated.") and record["text"].count("\n") == 2
    for boilerplate in ("cookies", "World news", "Copyright", "Privacy policy", "Support the Daily Planet", "Readers like you"):
        assert boilerplate not in record["text"]


def test_a_batch_of_folders_csv_and_jsonl_goes_in_and_a_bad_file_is_named_while_the_rest_is_added(tmp_path):
    layout = new_corpus(tmp_path / "c")
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("First headline\nFirst body.\n")
    (folder / "b.txt").write_text("Second headline\nSecond body.\n")
    (folder / "latin1.txt").write_bytes("Caf\xe9\nbody".encode("latin-1"))
    scraped = tmp_path / "scraped.csv"
    with scraped.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["title", "maintext", "date_publish", "authors", "url"])
        writer.writeheader()
        writer.writerow({"title": "Third", "maintext": "  Kept exactly, spaces and all.\n", "date_publish": "2021-02-03 10:11:12",
                         "authors": "Ann Lee; Bo Chen", "url": "https://example.org/3"})
        writer.writerow({"title": "Fourth", "maintext": "First body.", "date_publish": "", "authors": "", "url": ""})
    records = tmp_path / "more.jsonl"
    records.write_text(json.dumps({"id": "own-id-5", "headline": "Fifth", "body": "Fifth body."}) + "\n{not json\n")
    args = ["add", folder, scraped, records, "--source", "Wire", "--root", layout.root]

    nothing = run(*args, "--all-or-nothing")
    assert nothing.code == 1 and not (layout.corpus_dir / "wire.jsonl").exists()

    result = run(*args)
    assert result.code == 1 and "Traceback" not in result.err
    assert "texts/latin1.txt: [encoding-error]" in result.err
    assert "scraped.csv (line 4, /text): [duplicate-text] the text repeats article 'wire-first-headline'" in result.err
    assert "more.jsonl (line 2): [json-error]" in result.err
    added = {r["id"]: r for r in map(json.loads, (layout.corpus_dir / "wire.jsonl").read_text().splitlines())}
    assert sorted(added) == ["own-id-5", "wire-first-headline", "wire-second-headline", "wire-third"]
    third = added["wire-third"]
    assert third["text"] == "  Kept exactly, spaces and all.\n"
    assert third["published"] == "2021-02-03" and third["authors"] == ["Ann Lee", "Bo Chen"] and third["url"] == "https://example.org/3"
    assert added["own-id-5"]["title"] == "Fifth"


def test_build_without_settings_files_uses_the_defaults_and_says_so_once(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON"])
    (tmp_path / "a.txt").write_text("A headline\nAnn wrote this.\n")
    assert run("add", tmp_path / "a.txt", "--source", "Wire", "--root", layout.root).code == 0
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    assert built.err.count("[settings-default]") == 1 and "corpus/release.json" in built.err
    card = (layout.releases_dir / "v1.0.0" / "README.md").read_text()
    assert "pretty_name: newscorpus corpus" in card


def test_init_derives_topics_from_choices_and_never_overwrites(tmp_path):
    config = tmp_path / "config.xml"
    config.write_text(labels_config(["PER", "ORG"], ["Politics", "Sport"]).replace('<Label value="PER"/>', '<Label value="PER" hint="People"/>'))
    root = tmp_path / "c"
    assert run("init", root, "--label-config", config).code == 0
    taxonomy = json.loads((root / "schema" / "taxonomy.json").read_text())
    assert taxonomy["entities"]["labels"][0] == {"name": "PER", "description": "People"}
    assert taxonomy["topics"] == {"control": "topics", "object": "text", "labels": [{"name": "Politics"}, {"name": "Sport"}]}
    assert (root / ".github" / "workflows" / "newscorpus.yml").exists() and (root / ".pre-commit-config.yaml").exists()
    assert json.loads(run("validate", "--root", root, "--format", "json").out)["valid"]
    again = run("init", root)
    assert again.code == 1 and "never overwrites" in again.err
    assert json.loads((root / "schema" / "taxonomy.json").read_text()) == taxonomy
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"topics": {}}))
    refused = run("init", tmp_path / "d", "--taxonomy", bad)
    assert refused.code == 1 and "[taxonomy-error]" in refused.err and not (tmp_path / "d" / "schema" / "taxonomy.json").exists()
