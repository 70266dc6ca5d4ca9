"""Every shape of Label Studio export is read or refused, never ignored, and annotators are one
person per Label Studio user and nobody by name: a release carries pseudonyms only."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from conftest import REPO, annotation, article, new_corpus, run, span, task, write_export, write_jsonl

ALICE = "Alice Smith visited Paris on Monday."


def corpus(root, articles: list[dict]):
    layout = new_corpus(root, ["PERSON", "GPE"])
    shutil.copy(REPO / "corpus" / "release.json", layout.release_settings_path)
    write_jsonl(layout.corpus_dir / "wire.jsonl", articles)
    return layout


def documents(release) -> dict:
    return {row["id"]: row for split in load_dataset(str(release)).values() for row in split}


def annotations(release) -> list[dict]:
    rows = [row for split in load_dataset(str(release), "annotations").values() for row in split]
    return sorted(rows, key=lambda r: (r["article_id"], r["annotation_id"]))


def label_studio_0x(task_record: dict) -> dict:
    """A task as Label Studio 0.x stored it in project/completions/<task id>.json: one task object,
    its work under `completions`, no annotation id, no annotator, results tagged with `source`."""
    completions = [{"lead_time": a["lead_time"], "created_at": 1600000000,
                    "result": [{**{k: v for k, v in r.items() if k != "origin"}, "source": "$text"} for r in a["result"]]}
                   for a in task_record["annotations"]]
    return {"completions": completions, "data": task_record["data"], "id": task_record["id"]}


def test_a_label_studio_0x_export_of_one_task_per_file_builds_with_every_span_exact(gum):
    shutil.copy(REPO / "corpus" / "release.json", gum.release_settings_path)
    export_path = gum.exports()[0]
    tasks = json.loads(export_path.read_text())
    export_path.unlink()
    legacy = gum.annotations_dir / "legacy-project" / "completions"
    legacy.mkdir(parents=True)
    for t in tasks:
        (legacy / f"{t['id']}.json").write_text(json.dumps(label_studio_0x(t), indent=2))
    expected = {(t["data"]["article_id"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                for t in tasks for a in t["annotations"] for r in a["result"]}

    report = json.loads(run("validate", "--root", gum.root, "--format", "json").out)
    assert report["valid"] and report["checked"]["annotations"] == len(tasks)
    warned = {p["code"] for p in report["problems"]}
    assert warned == {"completions-read", "annotation-id-derived", "annotator-missing"}
    assert all("Label Studio 0.x" in p["message"] for p in report["problems"] if p["code"] == "completions-read")
    assert all(p["pointer"].startswith("/completions") for p in report["problems"])  # one task object: no list index

    built = run("build", "--version", "1.0.0", "--root", gum.root)
    assert built.code == 0, built.err
    release = gum.releases_dir / "v1.0.0"
    rows = load_dataset(str(release))
    names = next(iter(rows.values())).features["entities"].feature["label"].names
    got = set()
    for row in documents(release).values():
        for e in row["entities"]:
            assert row["text"][e["start"]:e["end"]] == e["text"]
            got.add((row["id"], e["start"], e["end"], names[e["label"]]))
    assert len(expected) == 4877 and got == expected
    raw = annotations(release)
    assert [r["annotation_id"] for r in raw if r["article_id"] == tasks[0]["data"]["article_id"]] == [tasks[0]["id"] * 1000 + 1]
    assert len({r["annotator"] for r in raw}) == len(tasks) and all(r["annotator"].startswith("anonymous-") for r in raw)


def test_one_user_written_as_an_id_and_as_a_user_object_is_one_annotator(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    alice, paris = span(0, 11, "PERSON", "Alice Smith"), span(20, 25, "GPE", "Paris")
    ana_as_object = {**annotation(2, 1, alice, paris), "completed_by": {"id": 1, "email": "ana@example.com", "first_name": "Ana"}}
    write_export(layout, "project.json", [task(1, article("alice", ALICE),
                                               annotation(1, 1, alice, paris), ana_as_object, annotation(3, 2, alice))])

    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    release = layout.releases_dir / "v1.0.0"
    row = documents(release)["alice"]
    assert row["annotators"] == 2 and row["resolution"] == "majority"
    assert [(e["start"], e["end"]) for e in row["entities"]] == [(0, 11)]  # Paris: 1 of 2 voters, a tie; counted twice it would win
    first, second, other = (r["annotator"] for r in annotations(release))
    assert first == second != other


def test_no_email_username_or_name_of_an_annotator_is_in_any_file_of_a_release(tmp_path):
    second = "Bea Kowalski met Alice Smith in Paris."
    layout = corpus(tmp_path / "c", [article("alice", ALICE), article("bea", second)])
    users = [{"id": 7, "email": "ngozika.lima@newsroom.example", "username": "nlima_ls", "first_name": "Ngozika", "last_name": "Lima-Oyelaran"},
             {"id": 9, "email": "zq.okonkwo@annotators.example", "username": "zqokonkwo", "first_name": "Zainab", "last_name": "Okonkwo"}]
    identifying = [value for user in users for key, value in user.items() if key != "id"]

    def by(user, annotation_id, *results):
        return {**annotation(annotation_id, user["id"], *results), "completed_by": user}

    write_export(layout, "20260101T000000Z.json", [
        task(1, article("alice", ALICE), by(users[0], 1, span(0, 11, "PERSON", "Alice Smith")), by(users[1], 2, span(20, 25, "GPE", "Paris"))),
        task(2, article("bea", second), by(users[1], 3, span(0, 13, "PERSON", "Bea Kowalski"))),
    ])
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    release = layout.releases_dir / "v1.0.0"
    key = layout.pseudonym_key_path.read_text().strip()
    files = [p for p in release.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"README.md", "croissant.json", "manifest.json"}
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("utf-8", "replace")
        if path.suffix == ".parquet":  # compressed pages hide strings from a byte search: read the values too
            text += json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
        for value in identifying + [key]:
            assert value not in text, f"{value} in {path.relative_to(release)}"
    card = (release / "README.md").read_text()
    pseudonyms = sorted({r["annotator"] for r in annotations(release)})
    assert "2 annotators worked on this release" in card
    zainab = next(r["annotator"] for r in annotations(release) if r["annotation_id"] == 3)
    assert f"| `{zainab}` | 2 | 0 |" in card  # Zainab annotated both articles

    # The next release of the same corpus names the same people the same way.
    write_export(layout, "20260201T000000Z.json", [
        task(3, article("bea", second), by(users[0], 4, span(0, 13, "PERSON", "Bea Kowalski"))),
    ])
    assert run("build", "--version", "1.1.0", "--root", layout.root).code == 0
    later = {r["annotation_id"]: r["annotator"] for r in annotations(layout.releases_dir / "v1.1.0")}
    earlier = {r["annotation_id"]: r["annotator"] for r in annotations(release)}
    assert later[1] == earlier[1] == later[4] and later[2] == earlier[2] and set(later.values()) == set(pseudonyms)


def test_an_export_that_gives_nothing_to_the_release_says_why(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    alice = span(0, 11, "PERSON", "Alice Smith")
    write_export(layout, "20260101T000000Z.json", [task(1, article("alice", ALICE), annotation(1, 1, alice))])
    write_export(layout, "20260201T000000Z.json", [task(1, article("alice", ALICE), annotation(1, 1, alice), annotation(2, 2, alice))])
    write_export(layout, "20260301T000000Z.json", [])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"] and report["checked"]["annotations"] == 2
    said = {p["file"]: p["message"] for p in report["problems"] if p["code"] == "export-contributes-nothing"}
    assert said == {"annotations/20260101T000000Z.json": "no annotation of this export reaches a release: of its 1 task, 1 superseded by a newer export",
                    "annotations/20260301T000000Z.json": "no annotation of this export reaches a release: it holds no tasks"}


def test_a_task_awaiting_annotation_in_a_newer_export_takes_nothing_away(tmp_path):
    """A fresh project pulled before anybody annotated: its empty task is work to do, not work done."""
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    alice = span(0, 11, "PERSON", "Alice Smith")
    write_export(layout, "20260101T000000Z.json", [task(1, article("alice", ALICE), annotation(1, 1, alice))])
    write_export(layout, "20260201T000000Z.json", [task(7, article("alice", ALICE))])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["valid"] and report["checked"]["annotations"] == 1 and report["checked"]["tasks awaiting annotation"] == 1
    assert [p["code"] for p in report["problems"]] == []
    assert "1 tasks awaiting annotation" in run("validate", "--root", layout.root).out
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    assert [e["text"] for e in documents(layout.releases_dir / "v1.0.0")["alice"]["entities"]] == ["Alice Smith"]
    write_export(layout, "20260301T000000Z.json", [task(8, article("alice", ALICE), annotation(9, 2, cancelled=True))])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    assert report["checked"]["annotations"] == 1  # a skip is work: it supersedes the older exports
    assert {p["file"] for p in report["problems"] if p["code"] == "export-contributes-nothing"} == {"annotations/20260101T000000Z.json", "annotations/20260201T000000Z.json"}


def test_an_articles_tasks_far_apart_in_one_export_resolve_together(tmp_path):
    bob = "Bob Jones flew to Rome."
    layout = corpus(tmp_path / "c", [article("alice", ALICE), article("bob", bob)])
    alice, bob_span = span(0, 11, "PERSON", "Alice Smith"), span(0, 9, "PERSON", "Bob Jones")
    write_export(layout, "20260101T000000Z.json", [
        task(1, article("alice", ALICE), annotation(1, 1, alice)),
        task(2, article("bob", bob), annotation(2, 1, bob_span)),
        task(3, article("alice", ALICE), annotation(3, 2, alice), annotation(4, 3)),
    ])
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    rows = documents(layout.releases_dir / "v1.0.0")
    assert (rows["alice"]["annotators"], rows["alice"]["resolution"]) == (3, "majority")
    assert rows["alice"]["entity_agreement"] == pytest.approx(1 / 3) and [e["text"] for e in rows["alice"]["entities"]] == ["Alice Smith"]
    assert (rows["bob"]["annotators"], rows["bob"]["resolution"]) == (1, "single")


def test_what_is_said_of_articles_follows_their_first_tasks_in_the_export(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    write_export(layout, "20260101T000000Z.json", [
        task(1, article("ghost-b", "Nobody.")), task(2, article("alice", ALICE)), task(3, article("ghost-a", "No one.")), task(4, article("ghost-b", "Nobody.")),
    ])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    unknown = [(p["task"], p["message"]) for p in report["problems"] if p["code"] == "unknown-article"]
    assert unknown == [(1, "article 'ghost-b' is not in the corpus"), (4, "article 'ghost-b' is not in the corpus"), (3, "article 'ghost-a' is not in the corpus")]


def test_why_an_export_gives_nothing_lists_its_tasks_fates_in_the_order_of_the_articles(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    write_export(layout, "20260101T000000Z.json", [task(1, article("ghost", "Nobody.")), task(2, article("alice", ALICE)), task(3, article("ghost", "Nobody."))])
    report = json.loads(run("validate", "--root", layout.root, "--format", "json").out)
    (message,) = [p["message"] for p in report["problems"] if p["code"] == "export-contributes-nothing"]
    assert message.endswith("of its 3 tasks, 2 for an article not in the corpus, 1 awaiting annotation")


def test_an_articles_annotations_come_before_its_reviews_in_the_annotations_config(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    alice = span(0, 11, "PERSON", "Alice Smith")

    def review_task(task_id, *annotations):
        queued = task(task_id, article("alice", ALICE), *annotations)
        queued["data"]["review"] = {"spans": []}
        return queued

    write_export(layout, "20260101T000000Z.json", [
        review_task(10, annotation(100, 9, alice)), task(1, article("alice", ALICE), annotation(1, 1, alice)), task(2, article("alice", ALICE), annotation(2, 2, alice)),
    ])  # the review is read first
    assert run("build", "--version", "1.0.0", "--root", layout.root).code == 0
    rows = [row for split in load_dataset(str(layout.releases_dir / "v1.0.0"), "annotations").values() for row in split]
    assert [(row["annotation_id"], row["review"]) for row in rows] == [(1, False), (2, False), (100, True)]


def test_an_export_whose_top_level_is_neither_a_list_nor_a_task_says_so_in_a_line(tmp_path):
    layout = corpus(tmp_path / "c", [article("alice", ALICE)])
    (layout.annotations_dir / "project.json").write_text(json.dumps({"tasks": [{"id": n, "data": {"text": ALICE * 20}} for n in range(5)]}))
    result = run("validate", "--root", layout.root)
    assert result.code == 1
    (line,) = [l for l in result.out.splitlines() if l.startswith("error:")]
    assert "the top level is an object with keys 'tasks'" in line and "list of tasks" in line and ALICE not in line


def test_every_help_text_renders_exactly_as_written():
    """Rich markup once ate `[a-z0-9][a-z0-9._-]` from a help text; help is plain text now."""
    import typer

    from newscorpus.cli import app

    def leaves(group, prefix=()):
        for name, command in group.commands.items():
            yield from leaves(command, (*prefix, name)) if hasattr(command, "commands") else [((*prefix, name), command)]

    squeeze = lambda text: "".join(text.split())  # wrapping may move line breaks, never characters
    for path, command in leaves(typer.main.get_command(app)):
        shown = run(*path, "--help", env={**os.environ, "COLUMNS": "200"})
        assert shown.code == 0, path
        for param in command.params:
            if getattr(param, "help", None):
                assert squeeze(param.help) in squeeze(shown.out), (path, param.name)
