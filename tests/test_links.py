"""Entity links: each span's Wikidata id, given in Label Studio's per-region TextArea, comes out as
`kb_id` in `documents` and `annotations`; real data from HIPE-2022's French NewsEye set."""

import json
import re

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import DATA, REPO, annotation, article, new_corpus, run, span, task, with_release_settings, write_export, write_jsonl, write_taxonomy

HIPE = DATA / "hipe-newseye-fr"
HIPE_LABELS = ["PER", "LOC", "ORG", "HumanProd"]
LINKS = {"control": "entity_links", "kb": "wikidata", "pattern": "^(Q[1-9][0-9]*|NIL)$"}


def linked_corpus(root, labels, links=LINKS):
    """An empty corpus whose taxonomy has `labels`, no title control, and `links`."""
    layout = with_release_settings(new_corpus(root))
    write_taxonomy(root, labels, title=False)
    taxonomy = json.loads(layout.taxonomy_path.read_text())
    if links:
        taxonomy["links"] = links
    layout.taxonomy_path.write_text(json.dumps(taxonomy, indent=2))
    return layout


def link(result: dict, *qids: str) -> dict:
    """The per-region TextArea result of a span result, as Label Studio writes it (confirmed in tests/test_browser.py)."""
    value = result["value"]
    return {"id": result["id"], "from_name": "entity_links", "to_name": "text", "type": "textarea", "origin": "manual",
            "value": {"start": value["start"], "end": value["end"], "text": list(qids)}}


def hipe_mentions() -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for line in (HIPE / "spans.jsonl").read_text(encoding="utf-8").splitlines():
        mention = json.loads(line)
        found.setdefault(mention["article_id"], []).append(mention)
    return found


def hipe_export(articles: list[dict], mentions: dict[str, list[dict]]) -> list[dict]:
    """One task per article and one annotation with every mention: a span result each, and a link
    result beside each mention HIPE links (nested mentions have none)."""
    tasks = []
    for n, record in enumerate(articles, 1):
        results = []
        for i, mention in enumerate(mentions[record["id"]]):
            region = {**span(mention["start"], mention["end"], mention["label"], mention["text"]), "id": f"m{n}-{i}", "origin": "manual"}
            results.append(region)
            if mention["kb_id"] is not None:
                results.append(link(region, mention["kb_id"]))
        tasks.append(task(n, record, annotation(n, 1, *results)))
    return tasks


def release_rows(release, config):
    loaded = load_dataset(str(release), config)
    return [row for split in loaded.values() for row in split], next(iter(loaded.values())).features


def inside_a_word(text: str, start: int, end: int) -> bool:
    """An edge with a word character on both sides: no token begins or ends there."""
    return bool(start and re.match(r"\w\w", text[start - 1 : start + 1])) or bool(re.match(r"\w\w", text[end - 1 : end + 1]))


def whole_tokens(text: str, start: int, end: int) -> int:
    """The `ner` tokens (OntoNotes-like, as docs/release.md says) that lie wholly inside start..end."""
    return sum(start <= t.start() and t.end() <= end for t in re.finditer(r"['’]s\b|\w+|[^\w\s]", text))


def test_the_hipe_french_articles_build_with_every_mention_label_and_qid_exact(tmp_path):
    layout = linked_corpus(tmp_path / "hipe", HIPE_LABELS)
    assert run("add", HIPE / "articles.jsonl", "--source", "NewsEye", "--root", layout.root).code == 0
    articles = [json.loads(line) for line in (layout.corpus_dir / "newseye.jsonl").read_text(encoding="utf-8").splitlines()]
    mentions = hipe_mentions()
    assert sorted(a["id"] for a in articles) == sorted(mentions) and len(articles) == 6
    write_export(layout, "hipe.json", hipe_export(articles, mentions))

    assert run("validate", "--root", layout.root).code == 0
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    rows, features = release_rows(release, "documents")
    names = features["entities"].feature["label"].names
    assert names == HIPE_LABELS
    texts = {a["id"]: a["text"] for a in articles}
    assert {row["id"] for row in rows} == set(mentions)
    for row in rows:
        assert row["text"] == texts[row["id"]] and row["language"] == "fr"
        got = sorted((e["start"], e["end"], names[e["label"]], e["text"], e["kb_id"]) for e in row["entities"])
        want = sorted((m["start"], m["end"], m["label"], m["text"], m["kb_id"]) for m in mentions[row["id"]])
        assert got == want, row["id"]
    linked = [m for ms in mentions.values() for m in ms if m["kb_id"]]
    assert len(linked) == 135 and sum(m["kb_id"] == "NIL" for m in linked) == 50  # as the data's README counts them

    # ner: the nested mentions are inside HIPE's coarse ones, which never overlap; a coarse mention that crosses a
    # hyphenated line end is dropped for crossing a paragraph, one with an edge inside a glued word for covering no whole token
    stats = json.loads((release / "manifest.json").read_text())["stats"]
    coarse = [(texts[a], m) for a, ms in mentions.items() for m in ms if not m["nested"]]
    one_line = [(t, m) for t, m in coarse if "\n" not in m["text"]]
    glued = [(t, m) for t, m in one_line if inside_a_word(t, m["start"], m["end"])]
    lost = [m for t, m in glued if not whole_tokens(t, m["start"], m["end"])]  # "Voltaire" in "Voltaireait" has no whole token
    assert len(glued) == 29 and len(lost) == 10
    assert stats["ner_dropped_nested"] == 16
    assert stats["ner_dropped_crosses_paragraph"] == len(coarse) - len(one_line) == 5
    assert stats["ner_dropped_no_whole_token"] == len(lost)
    assert stats["ner_spans_trimmed_to_tokens"] == len(glued) - len(lost)  # "M. Emile" in "M. EmileLaurent" keeps "M."

    # the links reach spaCy's kb_id and brat's normalizations (tests/test_formats.py reads those formats back)
    assert run("export", release, "--format", "spacy", "--out", tmp_path / "spacy").code == 0
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    docs = [doc for path in sorted((tmp_path / "spacy").glob("*.spacy")) for doc in DocBin().from_disk(path).get_docs(Vocab())]
    got = sorted((d.user_data["id"], s.start_char, s.end_char, s.label_, s.kb_id_) for d in docs if d.user_data["part"] == "text" for s in d.spans["sc"])
    held = [(a, m) for a, ms in mentions.items() for m in ms if not inside_a_word(texts[a], m["start"], m["end"])]  # a Doc's spans are whole tokens
    assert len(held) == 151 - 33 and got == sorted((a, m["start"], m["end"], m["label"], m["kb_id"] or "") for a, m in held)  # "": spaCy's no link
    assert run("export", release, "--format", "brat", "--out", tmp_path / "brat").code == 0
    normalizations = [line for path in (tmp_path / "brat").rglob("*.ann") for line in path.read_text().splitlines() if line.startswith("N")]
    assert len(normalizations) == 135 and sum(line.split("\t")[1].endswith(":NIL") for line in normalizations) == 50

    annotations, annotation_features = release_rows(release, "annotations")
    assert "kb_id" in annotation_features["entities"].feature
    assert sum(e["kb_id"] is not None for row in annotations for e in row["entities"]) == 135
    card = (release / "README.md").read_text()
    assert "##### Entity links" in card
    per_label = {label: [m for ms in mentions.values() for m in ms if m["label"] == label] for label in HIPE_LABELS}
    for label, found in per_label.items():
        share = sum(m["kb_id"] is not None for m in found) / len(found)
        assert re.search(rf"^\| {label} \| {len(found)} \| {sum(m['kb_id'] is not None for m in found)} \| "
                         rf"{sum(m['kb_id'] == 'NIL' for m in found)} \| {share:.3f} \|$", card, re.M), label


ARTICLE = article("paris-1", "Alice Smith visited Paris on Monday.")


def paris_export(*link_of_each_annotator):
    """One article, one annotation per annotator: each marks Alice Smith and Paris and links Paris as given (None: no link)."""
    annotations = []
    for n, qid in enumerate(link_of_each_annotator, 1):
        alice, paris = span(0, 11, "PERSON", "Alice Smith"), span(20, 25, "GPE", "Paris")
        annotations.append(annotation(n, n, alice, paris, *([link(paris, qid)] if qid else [])))
    return [task(1, ARTICLE, *annotations)]


def build_paris(tmp_path, *links):
    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    write_jsonl(layout.corpus_dir / "wire.jsonl", [ARTICLE])
    write_export(layout, "export.json", paris_export(*links))
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    (row,), _ = release_rows(release, "documents")
    return {e["text"]: e["kb_id"] for e in row["entities"]}, json.loads((release / "manifest.json").read_text())["stats"], release


@pytest.mark.parametrize("links, paris, ties", [
    (("Q90", "Q90", "Q167646"), "Q90", 0),  # two of three
    (("Q90", "Q167646"), None, 1),  # one each: a tie, counted
    (("Q90", None), None, 1),  # one linked, one left it unlinked: no strict majority
    (("Q90", None, None), None, 0),  # a strict majority left it unlinked
    (("NIL", "NIL", None), "NIL", 0),  # NIL is a link: not in Wikidata
])
def test_a_gold_spans_link_is_the_strict_majority_of_its_annotators_links(tmp_path, links, paris, ties):
    kb_ids, stats, _ = build_paris(tmp_path, *links)
    assert kb_ids == {"Alice Smith": None, "Paris": paris}
    assert stats.get("links_ties_dropped", 0) == ties


def test_the_card_gives_the_ties_and_the_share_of_linked_spans(tmp_path):
    _, stats, release = build_paris(tmp_path, "Q90", "Q167646")
    card = (release / "README.md").read_text()
    assert "| links_ties_dropped | 1 |" in card
    assert re.search(r"^\| GPE \| 1 \| 0 \| 0 \| 0\.000 \|$", card, re.M)


def test_a_taxonomy_without_links_has_no_kb_id_and_reports_link_results(tmp_path):
    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"], links=None)
    write_jsonl(layout.corpus_dir / "wire.jsonl", [ARTICLE])
    write_export(layout, "export.json", paris_export("Q90"))
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"] and {p["code"] for p in report["problems"]} == {"result-ignored"}
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    (row,), features = release_rows(layout.releases_dir / "v1.0.0", "documents")
    assert "kb_id" not in features["entities"].feature and "Entity links" not in (layout.releases_dir / "v1.0.0" / "README.md").read_text()


def test_a_link_error_names_the_file_the_task_the_annotation_and_the_region(tmp_path):
    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    write_jsonl(layout.corpus_dir / "wire.jsonl", [ARTICLE])
    write_export(layout, "export.json", paris_export("wd:Q90"))
    result = run("validate", "--root", layout.root)
    assert result.code == 1 and "Traceback" not in result.err
    (line,) = [line for line in result.out.splitlines() if "[link-pattern]" in line]
    assert "annotations/export.json" in line and "task 1" in line and "/0/annotations/0/result/2/value/text/0" in line
    assert "'r20-25-GPE'" in line and "annotation 1" in line


def test_the_labeling_config_has_a_per_region_link_field_on_the_text(tmp_path):
    from label_studio_sdk.label_interface import LabelInterface

    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    config = run("studio", "config", "--root", layout.root)
    assert config.code == 0
    control = LabelInterface(config.out).get_control("entity_links")
    assert control.tag == "TextArea" and control.to_name == ["text"]
    assert control.attr["perRegion"] == "true" and control.attr["maxSubmissions"] == "1"


def test_diff_counts_links_given_and_taken_and_sees_no_change_in_a_release_without_links(tmp_path):
    unlinked = linked_corpus(tmp_path / "plain", ["PERSON", "GPE"], links=None)
    write_jsonl(unlinked.corpus_dir / "wire.jsonl", [ARTICLE])
    write_export(unlinked, "export.json", paris_export(None))
    assert run("build", "--version", "1.0.0", "--root", unlinked.root).code == 0
    for name, qid, changed in (("none", None, []), ("one", "Q90", ["paris-1"])):
        layout = linked_corpus(tmp_path / name, ["PERSON", "GPE"])
        write_jsonl(layout.corpus_dir / "wire.jsonl", [ARTICLE])
        write_export(layout, "export.json", paris_export(qid))
        assert run("build", "--version", "1.1.0", "--root", layout.root).code == 0
        diff = run("diff", unlinked.releases_dir / "v1.0.0", layout.releases_dir / "v1.1.0", "--format", "json")
        changes = json.loads(diff.out)
        assert changes["labels_changed"] == changed, name
        assert changes.get("links", {}) == ({"GPE": {"linked": 1, "unlinked": 0, "relinked": 0}} if qid else {}), name
    diff = run("diff", tmp_path / "one" / "releases" / "v1.1.0", tmp_path / "none" / "releases" / "v1.1.0")
    assert "Entity links by label:" in diff.out and "| GPE | 0 | 1 | 0 |" in diff.out


@pytest.mark.studio
def test_pre_annotation_from_gold_carries_links_that_an_accepted_prediction_brings_back(tmp_path, label_studio):
    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    crowds = article("paris-2", "Crowds filled Paris again.")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [ARTICLE, crowds])
    write_export(layout, "20260101T000000Z.json", paris_export("Q90"))
    pushed = run("studio", "push", "--project", "Links", "--pre-annotate", "--root", layout.root, env=label_studio.env())
    assert pushed.code == 0, pushed.err
    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title="Links") if p.title == "Links"]
    tasks = {t.data["article_id"]: t for t in client.tasks.list(project=project.id, fields="all")}
    (prediction,) = [p for p in client.predictions.list(task=tasks["paris-2"].id) if p.model_version == "newscorpus-gold"]
    paris = crowds["text"].index("Paris")
    (region,) = [r for r in prediction.result if r["type"] == "labels"]
    (linked,) = [r for r in prediction.result if r["type"] == "textarea"]
    assert linked == {"id": region["id"], "from_name": "entity_links", "to_name": "text", "type": "textarea",
                      "value": {"start": paris, "end": paris + 5, "text": ["Q90"]}}

    client.annotations.create(id=tasks["paris-2"].id, result=prediction.result, completed_by=1)  # the annotator accepts it as it is
    assert run("studio", "pull", "--project", "Links", "--root", layout.root, env=label_studio.env()).code == 0
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    rows, _ = release_rows(layout.releases_dir / "v1.0.0", "documents")
    (row,) = [row for row in rows if row["id"] == "paris-2"]
    assert [(e["text"], e["kb_id"]) for e in row["entities"]] == [("Paris", "Q90")]


def test_import_brings_an_existing_projects_links_in_and_refuses_a_bad_one_writing_nothing(tmp_path):
    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    paris = span(20, 25, "GPE", "Paris")
    project_export = [{"id": 7, "data": {"text": ARTICLE["text"], "title": "Alice in Paris"},
                       "annotations": [annotation(70, 1, span(0, 11, "PERSON", "Alice Smith"), paris, link(paris, "Q90"))]}]
    bad = [{**project_export[0], "annotations": [annotation(70, 1, paris, link(paris, "Paris"))]}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = run("import", tmp_path / "bad.json", "--source", "Old Project", "--root", layout.root)
    assert refused.code == 1 and "[link-pattern]" in refused.err + refused.out and "task 7" in refused.err + refused.out
    assert not layout.exports() and not layout.shards()

    (tmp_path / "export.json").write_text(json.dumps(project_export))
    assert run("import", tmp_path / "export.json", "--source", "Old Project", "--root", layout.root).code == 0
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    (row,), _ = release_rows(layout.releases_dir / "v1.0.0", "documents")
    assert sorted((e["text"], e["kb_id"]) for e in row["entities"]) == [("Alice Smith", None), ("Paris", "Q90")]


def test_a_review_task_offers_the_link_most_annotators_gave_each_span(tmp_path):
    from newscorpus.exports.records import AnnotationRecord, Span
    from newscorpus.studio.review import review_task
    from newscorpus.taxonomy import load_taxonomy

    layout = linked_corpus(tmp_path / "c", ["PERSON", "GPE"])
    alice, paris = Span(0, 11, "PERSON", "Alice Smith"), Span(20, 25, "GPE", "Paris")

    def voter(n, entities, links):
        return AnnotationRecord("paris-1", 1, n, f"user:{n}", False, False, "export.json", entities=entities, links=links)

    voters = [voter(1, [alice, paris], {paris: "Q90", alice: "NIL"}), voter(2, [paris], {paris: "Q90"}), voter(3, [alice, paris], {alice: "Q1"})]
    (prediction,) = review_task(load_taxonomy(layout), ARTICLE, "Links", voters)["predictions"]
    regions = {r["id"]: r["value"]["text"] for r in prediction["result"] if r["type"] == "labels"}
    linked = {regions[r["id"]]: r["value"]["text"] for r in prediction["result"] if r["type"] == "textarea"}
    assert linked == {"Paris": ["Q90"]}  # Q90 from 2 of 3; Alice Smith's NIL and Q1 are a tie
