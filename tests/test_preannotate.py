"""Pre-annotation: new tasks pushed to a real Label Studio carry predictions from the corpus's own
gold or from a model's JSONL file; an annotation records the prediction it started from, and only
what the annotator submitted reaches the release."""

import shutil

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import REPO, StudioServer, article, free_port, new_corpus, run, write_jsonl
from newscorpus.layout import Layout

NEWS = "Taliban fighters entered Kabul at dawn, witnesses said."


def project_tasks(server, title):
    client = LabelStudio(base_url=server.url, api_key=server.token)
    (project,) = [p for p in client.projects.list(title=title) if p.title == title]
    return client, project, {t.data["article_id"]: t for t in client.tasks.list(project=project.id, fields="all")}


@pytest.fixture
def seed(tmp_path):
    """The repository's corpus (the seed article and its annotated export) plus one new article."""
    root = tmp_path / "seed"
    for folder in ("schema", "corpus", "annotations"):
        shutil.copytree(REPO / folder, root / folder)
    write_jsonl(root / "corpus" / "wire.jsonl", [article("kabul-1", NEWS, "Fighting in Afghanistan")])
    return Layout(root)


def text_spans(prediction):
    return sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"]) for r in prediction.result if r["to_name"] == "text")


def prediction_of(client, task_id, model_version):
    (found,) = [p for p in client.predictions.list(task=task_id) if p.model_version == model_version]
    return found


@pytest.mark.studio
def test_a_new_article_is_pre_annotated_from_the_seed_gold_and_a_models_file(seed, tmp_path, label_studio):
    model = tmp_path / "model.jsonl"
    witnesses = NEWS.index("witnesses")
    write_jsonl(model, [{"article_id": "kabul-1", "start": witnesses, "end": witnesses + 9, "label": "NORP", "score": 0.4, "model_version": "tiny-ner-1"}])
    pushed = run("studio", "push", "--project", "Pre", "--pre-annotate", "--predictions", model, "--root", seed.root, env=label_studio.env())
    assert pushed.code == 0, pushed.err
    assert "pushed 2 tasks" in pushed.out and "attached 3 predictions" in pushed.out  # gold for both articles, the model's for one
    client, project, tasks = project_tasks(label_studio, "Pre")
    from_gold = prediction_of(client, tasks["kabul-1"].id, "newscorpus-gold")
    taliban, kabul = NEWS.index("Taliban"), NEWS.index("Kabul")
    # The seed's gold labels "Taliban" ORG 10 times and NORP 3 times, "Kabul" GPE once.
    assert text_spans(from_gold) == [(taliban, taliban + 7, "ORG", "Taliban"), (kabul, kabul + 5, "GPE", "Kabul")]
    scores = {r["value"]["text"]: r["score"] for r in from_gold.result}
    assert scores["Kabul"] == 1.0 and scores["Taliban"] == pytest.approx(10 / 13, abs=1e-3)
    title = [(r["value"]["text"], r["value"]["labels"]) for r in from_gold.result if r["to_name"] == "title"]
    assert title == [("Afghanistan", ["GPE"])]
    from_model = prediction_of(client, tasks["kabul-1"].id, "tiny-ner-1")
    assert text_spans(from_model) == [(witnesses, witnesses + 9, "NORP", "witnesses")] and from_model.score == 0.4
    assert client.projects.get(id=project.id).model_version == ""  # two sources: annotators are shown both


@pytest.mark.studio
def test_an_annotation_records_the_prediction_it_started_from(tmp_path, label_studio):
    env = label_studio.env()
    layout = new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE", "NORP"], ["politics", "sport"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    first = "Taliban leaders met in Kabul."
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a-1", first)])
    assert run("studio", "push", "--project", "Parent", "--root", layout.root, env=env).code == 0
    client, _, tasks = project_tasks(label_studio, "Parent")
    dee = client.users.create(username="dee13b", email="dee13b@example.com", password="x-pass-12345")
    gold = [{"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": s, "end": s + len(w), "labels": [l], "text": w}}
            for w, l, s in (("Taliban", "ORG", 0), ("Kabul", "GPE", first.index("Kabul")))]
    client.annotations.create(id=tasks["a-1"].id, completed_by=dee.id, result=gold)
    assert run("studio", "pull", "--project", "Parent", "--root", layout.root, env=env).code == 0

    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("a-1", first), article("a-2", NEWS)])
    pushed = run("studio", "push", "--project", "Parent", "--pre-annotate", "--root", layout.root, env=env)
    assert pushed.code == 0, pushed.err
    assert "pushed 1 tasks; 1 articles already" in pushed.out and "attached 1 predictions" in pushed.out
    client, project, tasks = project_tasks(label_studio, "Parent")
    from_gold = prediction_of(client, tasks["a-2"].id, "newscorpus-gold")
    assert [s[2:] for s in text_spans(from_gold)] == [("ORG", "Taliban"), ("GPE", "Kabul")]

    # dee starts from the prediction and keeps only Kabul.
    kept = [r for r in from_gold.result if r["value"]["text"] == "Kabul"]
    client.annotations.create(id=tasks["a-2"].id, completed_by=dee.id, result=kept, parent_prediction=from_gold.id)
    assert run("studio", "pull", "--project", "Parent", "--root", layout.root, env=env).code == 0
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    docs = {row["id"]: row for split in load_dataset(str(release)).values() for row in split}
    assert [e["text"] for e in docs["a-2"]["entities"]] == ["Kabul"]  # predictions never reach a release by themselves
    rows = {row["article_id"]: row for split in load_dataset(str(release), "annotations").values() for row in split}
    assert rows["a-2"]["parent_prediction"] == {"id": from_gold.id, "model_version": "newscorpus-gold"}
    assert rows["a-1"]["parent_prediction"] is None


def test_a_bad_predictions_file_is_refused_line_by_line_before_anything_is_pushed(seed, tmp_path):
    server_down = StudioServer(f"http://127.0.0.1:{free_port()}", "unused-token-value")
    model = tmp_path / "model.jsonl"
    write_jsonl(model, [
        {"article_id": "kabul-1", "start": 0, "end": 7, "label": "ORG", "score": 0.9, "model_version": "m"},
        {"article_id": "kabul-1", "start": 0, "end": 7, "label": "MILITIA", "model_version": "m"},
        {"article_id": "no-such-article", "start": 0, "end": 3, "label": "ORG", "model_version": "m"},
        {"article_id": "kabul-1", "start": 50, "end": 500, "label": "GPE", "model_version": "m"},
        {"article_id": "kabul-1", "start": "0", "end": 7, "label": "ORG", "model_version": "m"},
        {"article_id": "kabul-1", "start": 0, "end": 5, "label": "ORG", "text": "Kabul", "model_version": "m"},
    ])
    result = run("studio", "push", "--predictions", model, "--root", seed.root, env=server_down.env())
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.err and "cannot reach" not in result.err  # refused before the server is asked
    found = {(line.split("(line ")[1].split(",")[0], line.split("[")[1].split("]")[0]) for line in result.err.splitlines() if "model.jsonl (line" in line}
    assert found == {("2", "unknown-label"), ("3", "prediction-unknown-article"), ("4", "span-out-of-range"), ("5", "schema-error"), ("6", "span-text-mismatch")}
    assert "/start" in result.err and "nothing was pushed: the predictions are invalid" in result.err


def test_the_gold_lexicon_matches_whole_words_case_sensitively_with_the_most_frequent_label():
    from newscorpus.exports.records import Span
    from newscorpus.studio.predictions import GoldDocument, GoldLexicon

    text = "Apple sued Apple Inc. Apple shares fell; an apple a day. Applesauce."
    gold = [Span(0, 5, "ORG", "Apple"), Span(11, 20, "ORG", "Apple Inc"), Span(22, 27, "ORG", "Apple")]
    other = "Apple Records signed them."
    documents = [GoldDocument("a", text, "", gold, []), GoldDocument("b", other, "", [Span(0, 5, "PRODUCT", "Apple")], [])]
    lexicon = GoldLexicon.from_gold(lambda: documents, ["ORG", "PRODUCT"])
    label, score = lexicon.labels["Apple"]
    assert label == "ORG" and score == pytest.approx(2 / 4)  # 4 whole-word "Apple": 2 ORG, 1 PRODUCT, 1 inside "Apple Inc"
    found = [(p.span.start, p.span.end, p.span.label, p.span.text) for p in lexicon.predict("Apple Inc. and apple and Applesauce")]
    assert found == [(0, 9, "ORG", "Apple Inc"), (0, 5, "ORG", "Apple")]
    assert lexicon.predict("Apple Inc. and Apple", min_score=0.9) == [p for p in lexicon.predict("Apple Inc. and Apple") if p.span.text == "Apple Inc"]
