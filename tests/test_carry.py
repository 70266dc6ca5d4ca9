"""A corrected article keeps its labels: given the seed and its export, an edit to the corpus text
outside every span is carried forward; one inside a span is refused, naming that span."""

import json
import shutil

import pytest
from datasets import load_dataset

from conftest import REPO, annotation, article, new_corpus, run, span, task, write_export, write_jsonl

SEED_EXPORT = sorted((REPO / "annotations" / "newscorpus").glob("*.json"))[-1].relative_to(REPO).as_posix()  # the newest holds the seed
(SEED_TASK,) = json.loads((REPO / SEED_EXPORT).read_text())


def seed_spans() -> list[tuple[str, int, int, str, str]]:
    """(part, start, end, label, text) of every span in the seed's export."""
    (annotation,) = SEED_TASK["annotations"]
    return [("title" if r["to_name"] == "title" else "text", r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
            for r in annotation["result"] if r["type"] == "labels"]


def seed_relations() -> list[tuple[str, str, str]]:
    """(head text, tail text, label) of every relation in the seed's export."""
    (annotation,) = SEED_TASK["annotations"]
    regions = {r["id"]: r["value"]["text"] for r in annotation["result"] if r["type"] == "labels"}
    return sorted((regions[r["from_id"]], regions[r["to_id"]], r["labels"][0]) for r in annotation["result"] if r["type"] == "relation")


def relation_tuples(row, features):
    name = features["relations"].feature["label"].int2str
    return sorted((row["entities"][r["head"]]["text"], row["entities"][r["tail"]]["text"], name(r["label"])) for r in row["relations"])


def seed_corpus(root, edit=lambda article: None):
    """The repository's seed corpus and export in `root`, with `edit` applied to the article."""
    for folder in ("schema", "corpus", "annotations"):
        shutil.copytree(REPO / folder, root / folder)
    shard = root / "corpus" / "ibns.jsonl"
    (article,) = [json.loads(line) for line in shard.read_text().splitlines()]
    edit(article)
    shard.write_text(json.dumps(article, ensure_ascii=False) + "\n")
    return root, article


def replace_in_text(old: str, new: str):
    def edit(article):
        assert article["text"].count(old) == 1
        article["text"] = article["text"].replace(old, new)
    return edit


def release_rows(release, config="documents"):
    loaded = load_dataset(str(release), config)
    features = next(iter(loaded.values())).features
    return [row for split in loaded.values() for row in split], features


def entity_tuples(row, features):
    name = features["entities"].feature["label"].int2str
    return sorted([("title", e["start"], e["end"], name(e["label"]), e["text"]) for e in row["title_entities"]]
                  + [("text", e["start"], e["end"], name(e["label"]), e["text"]) for e in row["entities"]])


def test_one_corrected_letter_keeps_every_span_and_says_so(tmp_path):
    root, article = seed_corpus(tmp_path / "c", replace_in_text("Defence", "Defense"))
    checked = run("validate", "--root", root)
    assert checked.code == 0, checked.out
    (warning,) = [line for line in checked.out.splitlines() if "[carried-forward]" in line]
    assert f"{SEED_EXPORT} (task {SEED_TASK['id']}" in warning and "52 spans" in warning and "'Defence' -> 'Defense'" in warning

    built = run("build", "--version", "1.0.0", "--root", root)
    assert built.code == 0, built.err
    release = root / "releases" / "v1.0.0"
    (row,), features = release_rows(release)
    assert entity_tuples(row, features) == sorted(seed_spans())
    assert relation_tuples(row, features) == seed_relations() and len(seed_relations()) == 6
    assert row["carried_forward"] is True and row["text"] == article["text"]
    annotations, _ = release_rows(release, "annotations")
    assert [a["carried_forward"] for a in annotations] == [True]
    assert "carried forward onto a corrected text (`carried_forward`): 1." in (release / "README.md").read_text()


def test_spans_after_an_insertion_and_a_deletion_move_by_their_lengths(tmp_path):
    def edit(article):
        replace_in_text("Afghan forces, comprising", "The Afghan forces, comprising")(article)
        replace_in_text("still holding out", "holding out")(article)
        article["title"] = "Anti-Taliban forces seize three districts in north Afghanistan: Report"

    root, article = seed_corpus(tmp_path / "c", edit)
    checked = run("validate", "--root", root)
    assert checked.code == 0, checked.out
    assert "3 edits" in checked.out and "'northern' -> 'north'" in checked.out
    assert run("build", "--version", "1.0.0", "--root", root).code == 0

    seed = json.loads((REPO / "corpus" / "ibns.jsonl").read_text())
    deleted_at, cut_at = seed["text"].index("still "), seed["title"].index("ern Afghanistan")

    def moved(part, start, end, label, text):
        shift = (4 - (6 if start > deleted_at else 0)) if part == "text" else (-3 if start > cut_at else 0)
        return part, start + shift, end + shift, label, text

    (row,), features = release_rows(root / "releases" / "v1.0.0")
    assert entity_tuples(row, features) == sorted(moved(*s) for s in seed_spans())
    for part, start, end, _, text in entity_tuples(row, features):
        assert article[part][start:end] == text


def test_a_letter_changed_inside_a_name_names_that_span_and_builds_nothing(tmp_path):
    root, _ = seed_corpus(tmp_path / "c", replace_in_text("Bismillah Mohammadi", "Bismillah Mohamadi"))
    checked = run("validate", "--root", root, "--format", "json")
    assert checked.code == 1
    report = json.loads(checked.out)
    (problem,) = [p for p in report["problems"] if p["severity"] == "error"]
    assert problem["code"] == "span-not-carried" and problem["task"] == SEED_TASK["id"] and problem["file"] == SEED_EXPORT
    assert "365-384 'Bismillah Mohammadi' (PERSON)" in problem["message"]
    assert "'Mohammadi' -> 'Mohamadi'" in problem["message"]
    built = run("build", "--version", "1.0.0", "--root", root)
    assert built.code == 1 and "[span-not-carried]" in built.err and "Traceback" not in built.err
    assert not (root / "releases" / "v1.0.0").exists()


def test_a_corpus_can_make_any_change_an_error_that_shows_where_the_texts_differ(tmp_path):
    root, _ = seed_corpus(tmp_path / "c", replace_in_text("Defence", "Defense"))
    settings = json.loads((root / "corpus" / "release.json").read_text())
    (root / "corpus" / "release.json").write_text(json.dumps({**settings, "stale_tasks": "error"}))
    checked = run("validate", "--root", root)
    assert checked.code == 1
    (error,) = [line for line in checked.out.splitlines() if line.startswith("error:")]
    assert "[stale-task]" in error and f"task {SEED_TASK['id']}" in error
    assert "the text differs, first difference at character 345" in error and "the title" not in error
    assert "as Defence Minister" in error and "as Defense Minister" in error


def test_an_unknown_stale_tasks_setting_is_refused_with_its_place(tmp_path):
    root, _ = seed_corpus(tmp_path / "c")
    settings = json.loads((root / "corpus" / "release.json").read_text())
    (root / "corpus" / "release.json").write_text(json.dumps({**settings, "stale_tasks": "ignore"}))
    checked = run("validate", "--root", root)
    assert checked.code == 1
    (error,) = [line for line in checked.out.splitlines() if line.startswith("error:")]  # once, though two stages read the file
    assert error.startswith("error: corpus/release.json (/stale_tasks)") and "[config-error]" in error


def pushed_task(label_studio, project_title: str):
    """The project's one task and its predictions, read back through the SDK."""
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title=project_title) if p.title == project_title]
    (task,) = client.tasks.list(project=project.id, fields="all")
    return client, task, client.predictions.list(task=task.id)


def prediction_spans(prediction) -> list[tuple[str, int, int, str, str]]:
    return sorted((r["to_name"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], r["value"]["text"])
                  for r in prediction.result if r["type"] == "labels")


def prediction_relations(prediction) -> list[tuple[str, str, str]]:
    regions = {r["id"]: r["value"]["text"] for r in prediction.result if r["type"] == "labels"}
    return sorted((regions[r["from_id"]], regions[r["to_id"]], r["labels"][0]) for r in prediction.result if r["type"] == "relation")


def prediction_topics(prediction) -> list[str]:
    return [choice for r in prediction.result if r["type"] == "choices" for choice in r["value"]["choices"]]


@pytest.mark.studio
def test_push_sends_a_corrected_article_with_every_carried_span_as_a_prediction(tmp_path, label_studio):
    root, article = seed_corpus(tmp_path / "c", replace_in_text("Defence", "Defense"))
    pushed = run("studio", "push", "--project", "Carried", "--root", root, env=label_studio.env())
    assert pushed.code == 0 and "pushed 1 tasks" in pushed.out, pushed.err
    _, task, (prediction,) = pushed_task(label_studio, "Carried")
    assert task.data["text"] == article["text"]
    assert prediction.model_version == f"carried-forward:{SEED_EXPORT}#task{SEED_TASK['id']}"
    assert prediction_spans(prediction) == sorted(seed_spans())
    assert prediction_relations(prediction) == seed_relations()
    assert prediction_topics(prediction) == ["conflict, war and peace", "politics"]


@pytest.mark.studio
def test_a_span_that_cannot_be_carried_is_left_for_the_annotator_whose_submission_supersedes_the_old_task(tmp_path, label_studio):
    root, article = seed_corpus(tmp_path / "c", replace_in_text("Bismillah Mohammadi", "Bismillah Mohamadi"))
    env = label_studio.env()
    assert "pushed 1 tasks" in run("studio", "push", "--project", "Partly carried", "--root", root, env=env).out
    client, task, (prediction,) = pushed_task(label_studio, "Partly carried")
    name = ("text", 365, 384, "PERSON", "Bismillah Mohammadi")
    others = sorted((part, start - 1, end - 1, label, text) if part == "text" and start > 384 else (part, start, end, label, text)
                    for part, start, end, label, text in seed_spans() if (part, start, end, label, text) != name)
    assert prediction_spans(prediction) == others
    assert prediction_relations(prediction) == seed_relations()  # none of them joins the name

    fixed = {"from_name": "entities", "to_name": "text", "type": "labels",
             "value": {"start": 365, "end": 383, "labels": ["PERSON"], "text": "Bismillah Mohamadi"}}
    assert article["text"][365:383] == "Bismillah Mohamadi"
    annotator = client.users.create(username="dana", email="dana@example.com", password="x-pass-12345")
    client.annotations.create(id=task.id, completed_by=annotator.id, result=[*prediction.result, fixed], parent_prediction=prediction.id)
    pulled = run("studio", "pull", "--project", "Partly carried", "--root", root, env=env)
    assert pulled.code == 0, pulled.err

    checked = run("validate", "--root", root, "--format", "json")
    assert checked.code == 0, checked.out
    assert {p["code"] for p in json.loads(checked.out)["problems"]} == {"export-contributes-nothing"}  # the first export: all superseded
    assert run("build", "--version", "1.0.0", "--root", root).code == 0
    (row,), features = release_rows(root / "releases" / "v1.0.0")
    expected = sorted(others + [("text", 365, 383, "PERSON", "Bismillah Mohamadi")])
    assert entity_tuples(row, features) == expected
    assert relation_tuples(row, features) == seed_relations()
    assert row["carried_forward"] is False and row["resolution"] == "single"


def corrected_corpus(root, old_text: str, new_text: str, *stale_results, current_annotations=()):
    """One article whose text went from old_text to new_text, and one export holding its stale task
    (annotated with stale_results) beside its current task (pushed again, with current_annotations)."""
    layout = new_corpus(root, ["PERSON", "GPE"], ["politics"])
    record = article("wire-1", new_text, "Visit")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    write_export(layout, "20260101T000000Z.json", [task(1, {**record, "text": old_text}, annotation(1, 7, *stale_results)),
                                                   task(2, record, *current_annotations)])
    return layout


OLD = "Ana Reyes flew to Kabul on Monday."
NEW = "Ana Reyes flew to Kabul late on Monday."


def test_a_stale_task_beside_its_pushed_again_task_is_carried_until_someone_submits_the_new_one(tmp_path):
    layout = corrected_corpus(tmp_path / "c", OLD, NEW, span(0, 9, "PERSON", "Ana Reyes"), span(18, 23, "GPE", "Kabul"))
    checked = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert checked["valid"] and [(p["code"], p["task"]) for p in checked["problems"]] == [("carried-forward", 1)]

    submitted = annotation(2, 8, span(0, 9, "PERSON", "Ana Reyes"))
    layout = corrected_corpus(tmp_path / "d", OLD, NEW, span(0, 9, "PERSON", "Ana Reyes"), span(18, 23, "GPE", "Kabul"), current_annotations=[submitted])
    checked = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert checked["valid"] and [(p["code"], p["task"]) for p in checked["problems"]] == [("stale-task-superseded", 1)]


def test_a_stale_task_that_cannot_be_carried_waits_for_its_pushed_again_task_without_failing(tmp_path):
    layout = corrected_corpus(tmp_path / "c", OLD, "Ana Reyes flew to Kabuls on Monday.", span(0, 9, "PERSON", "Ana Reyes"), span(18, 23, "GPE", "Kabul"))
    result = run("validate", "--root", layout.root, "--format", "json")
    checked = json.loads(result.out)
    assert result.code == 0 and [(p["code"], p["task"]) for p in checked["problems"]] == [("stale-task-superseded", 1), ("export-contributes-nothing", None)]
    assert "1 of its spans touch the edits" in checked["problems"][0]["message"] and "task 2" in checked["problems"][0]["message"]


def test_a_stale_task_whose_article_was_pushed_again_to_a_fresh_project_waits_for_it_without_failing(tmp_path):
    """The corrected article went to a new project, pulled before anyone annotated: its pending task
    is in a newer export, not beside the stale one, and still counts as pushed again."""
    layout = new_corpus(tmp_path / "c", ["PERSON", "GPE"], ["politics"])
    record = article("wire-1", "Ana Reyes flew to Kabuls on Monday.", "Visit")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    write_export(layout, "20260101T000000Z.json", [task(1, {**record, "text": OLD}, annotation(1, 7, span(0, 9, "PERSON", "Ana Reyes"), span(18, 23, "GPE", "Kabul")))])
    write_export(layout, "20260201T000000Z.json", [task(1, record)])
    result = run("validate", "--root", layout.root, "--format", "json")
    checked = json.loads(result.out)
    assert result.code == 0 and [(p["code"], p["file"]) for p in checked["problems"]] == [
        ("stale-task-superseded", "annotations/20260101T000000Z.json"), ("export-contributes-nothing", "annotations/20260101T000000Z.json")]
    assert "a newer export has a task with the current text and awaits annotation" in checked["problems"][0]["message"]

    write_export(layout, "20260201T000000Z.json", [task(1, {**record, "text": "Ana Reyes flew out on Monday."})])  # that task is stale too
    assert run("validate", "--root", layout.root).code == 1


@pytest.mark.studio
def test_in_one_project_a_corrected_article_keeps_its_labels_until_its_new_task_is_submitted(tmp_path, label_studio):
    import time

    from label_studio_sdk import LabelStudio

    env, title = label_studio.env(), "Living corpus"
    layout = new_corpus(tmp_path / "c", ["PERSON", "GPE"], ["politics"])
    record = article("wire-1", OLD, "Visit")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])
    assert "pushed 1 tasks" in run("studio", "push", "--project", title, "--root", layout.root, env=env).out
    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title=title) if p.title == title]
    (first,) = client.tasks.list(project=project.id, fields="all")
    ana = client.users.create(username="ana-living", email="ana-living@example.com", password="x-pass-12345")
    labels = [{"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 9, "labels": ["PERSON"], "text": "Ana Reyes"}},
              {"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": 18, "end": 23, "labels": ["GPE"], "text": "Kabul"}},
              {"from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": ["politics"]}}]
    client.annotations.create(id=first.id, completed_by=ana.id, result=labels)
    assert run("studio", "pull", "--project", title, "--root", layout.root, env=env).code == 0
    (export,) = layout.exports()

    corrected = "Ana Reyes flew back to Kabul on Monday."
    write_jsonl(layout.corpus_dir / "wire.jsonl", [{**record, "text": corrected}])
    pushed = run("studio", "push", "--project", title, "--root", layout.root, env=env)
    assert "pushed 1 tasks; 0 articles already" in pushed.out, pushed.out + pushed.err
    (second,) = [t for t in client.tasks.list(project=project.id, fields="all") if t.id != first.id]
    (prediction,) = client.predictions.list(task=second.id)
    assert prediction.model_version == f"carried-forward:{layout.relative(export)}#task{first.id}"
    assert prediction_spans(prediction) == [("text", 0, 9, "PERSON", "Ana Reyes"), ("text", 23, 28, "GPE", "Kabul")]
    assert prediction_topics(prediction) == ["politics"]

    time.sleep(1)  # exports are named by the second
    assert run("studio", "pull", "--project", title, "--root", layout.root, env=env).code == 0
    checked = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert checked["valid"] and {(p["code"], p["task"]) for p in checked["problems"]} == {("carried-forward", first.id), ("export-contributes-nothing", None)}

    ben = client.users.create(username="ben-living", email="ben-living@example.com", password="x-pass-12345")
    client.annotations.create(id=second.id, completed_by=ben.id, result=prediction.result[1:], parent_prediction=prediction.id)
    time.sleep(1)
    assert run("studio", "pull", "--project", title, "--root", layout.root, env=env).code == 0
    checked = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert checked["valid"] and {(p["code"], p["task"]) for p in checked["problems"]} == {("stale-task-superseded", first.id), ("export-contributes-nothing", None)}
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    (row,), features = release_rows(layout.releases_dir / "v1.0.0")
    assert entity_tuples(row, features) == [("text", 23, 28, "GPE", "Kabul")]
    assert row["carried_forward"] is False and row["resolution"] == "single"
