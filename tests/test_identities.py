"""No annotator's email or name in the repository: an export with Label Studio's user objects is
imported with each annotator as a user id, `clean-identities` cleans a repository that holds some,
and `validate` names any that is left."""

import hashlib
import json
import re
import shutil

from label_studio_sdk import LabelStudio
import pytest

from conftest import REPO, article, new_corpus, pseudonym, run, span, topics, write_jsonl

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
TEXT = "Ana Lima met the Acme board in Lisbon on Friday."
HAKAN = {"id": 1, "first_name": "Hakan", "last_name": "Erdogan", "email": "hakan@heartex.com", "avatar": None, "initials": "HE"}


def exported_task(task_id: int, annotation_id: int, completed_by) -> dict:
    """A task as older Label Studio versions export it: user objects, `created_username`, a draft of an email's user."""
    return {"id": task_id, "data": {"article_id": f"wire-{task_id}", "title": f"Story {task_id}", "text": text(task_id)},
            "annotations": [{"id": annotation_id, "completed_by": completed_by, "created_username": " hakan@heartex.com, 1",
                             "was_cancelled": False, "ground_truth": False, "lead_time": 3.5,
                             "result": [span(0, 8, "PERSON", "Ana Lima"), span(17, 21, "ORG", "Acme"), topics("politics")]}],
            "drafts": [{"id": 4, "user": "hakan@heartex.com", "created_username": " hakan@heartex.com, 1", "result": []}],
            "predictions": [], "annotators": [HAKAN], "updated_by": HAKAN, "comment_authors": [HAKAN]}


def text(task_id: int) -> str:
    return f"{TEXT} Part {task_id}."


def emails_in(folder) -> list[str]:
    """What `grep -r @` would show that is an email, in every file under the folder."""
    return [f"{path}: {m}" for path in sorted(folder.rglob("*")) if path.is_file() for m in EMAIL.findall(path.read_text())]


@pytest.fixture
def corpus(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE", "DATE"], ["politics", "sport"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    return layout


def test_an_export_with_user_objects_is_imported_with_each_annotator_as_a_user_id_and_no_email(corpus, tmp_path):
    export = tmp_path / "project-1.json"
    export.write_text(json.dumps([exported_task(1, 11, HAKAN), exported_task(2, 12, 1)]))
    imported = run("import", export, "--source", "Wire", "--root", corpus.root)
    assert imported.code == 0, imported.err
    assert emails_in(corpus.annotations_dir) == []
    (stored,) = corpus.exports()
    tasks = json.loads(stored.read_text())
    assert [t["annotations"][0]["completed_by"] for t in tasks] == [1, 1]
    assert tasks[0]["updated_by"] == 1 and tasks[0]["annotators"] == [1] and tasks[0]["drafts"] == [{"id": 4, "result": []}]
    assert "created_username" not in tasks[0]["annotations"][0] and tasks[0]["annotations"][0]["lead_time"] == 3.5
    assert tasks[0]["data"]["text"] == text(1)
    checked = json.loads(run("validate", "--root", corpus.root, "--format", "json").out)
    assert checked["valid"] and "annotator-email" not in {p["code"] for p in checked["problems"]}

    assert run("build", "--version", "1.0.0", "--root", corpus.root).code == 0
    from datasets import load_dataset

    rows = [r for split in load_dataset(str(corpus.releases_dir / "v1.0.0"), "annotations").values() for r in split]
    assert {r["annotator"] for r in rows} == {pseudonym(corpus, 1)}  # the user object and the id are one annotator


def test_clean_identities_rewrites_only_the_tasks_that_hold_emails_and_the_release_stays_the_same(corpus, tmp_path):
    write_jsonl(corpus.corpus_dir / "wire.jsonl", [article(f"wire-{i}", text(i), f"Story {i}") for i in (1, 2, 3)])
    tasks = [exported_task(1, 11, 1), exported_task(2, 12, HAKAN), exported_task(3, 13, 2)]
    for task in (tasks[0], tasks[2]):  # only the second task holds identities
        del task["drafts"][0]["user"], task["drafts"][0]["created_username"], task["annotations"][0]["created_username"]
        task["annotators"] = task["comment_authors"] = [task["annotations"][0]["completed_by"]]
        task["updated_by"] = task["annotations"][0]["completed_by"]
    export = corpus.annotations_dir / "desk" / "20260101T000000Z.json"
    export.parent.mkdir()
    export.write_bytes(b"[" + b",".join(json.dumps(t, separators=(",", ":")).encode() for t in tasks) + b"]")
    original = export.read_bytes()
    corpus.pseudonym_key_path.write_text("ab" * 32 + "\n")  # the corpus's committed key: both builds below use it

    before = run("validate", "--root", corpus.root)
    assert before.code == 0 and "warning: annotations/desk/20260101T000000Z.json (task 2, /1/annotations/0/completed_by/email): [annotator-email]" in before.out, before.out
    unclean = tmp_path / "unclean"
    shutil.copytree(corpus.root, unclean)

    cleaned = run("clean-identities", "--root", corpus.root)
    assert cleaned.code == 0 and "cleaned annotations/desk/20260101T000000Z.json" in cleaned.out, cleaned.err
    assert emails_in(corpus.annotations_dir) == []
    first, third = (json.dumps(t, separators=(",", ":")).encode() for t in (tasks[0], tasks[2]))
    after = export.read_bytes()
    assert after.startswith(b"[" + first + b",") and after.endswith(b"," + third + b"]")  # the other tasks keep their bytes
    assert json.loads(after)[1]["annotations"][0]["completed_by"] == 1 and json.loads(after)[1]["annotators"] == [1]
    assert "annotator-email" not in run("validate", "--root", corpus.root).out
    again = run("clean-identities", "--root", corpus.root)
    assert "0 of 1 exports held annotator emails or names; nothing written" in again.out and export.read_bytes() == after

    for root in (unclean, corpus.root):
        assert run("build", "--version", "1.0.0", "--root", root).code == 0
    manifests = [json.loads((root / "releases" / "v1.0.0" / "manifest.json").read_text()) for root in (unclean, corpus.root)]
    assert manifests[0]["files"] == manifests[1]["files"]  # every Parquet file, the card: the same bytes
    assert [i["sha256"] for i in manifests[1]["inputs"] if i["path"].startswith("annotations/desk")] == [hashlib.sha256(after).hexdigest()]
    assert original != after


def test_an_indented_export_is_cleaned_in_its_own_layout(corpus):
    write_jsonl(corpus.corpus_dir / "wire.jsonl", [article("wire-1", text(1), "Story 1")])
    export = corpus.annotations_dir / "20260101T000000Z.json"
    export.write_text(json.dumps([exported_task(1, 11, HAKAN)], indent=4, ensure_ascii=False) + "\n")
    assert run("clean-identities", "--root", corpus.root).code == 0
    cleaned = json.loads(export.read_text())
    assert export.read_text() == json.dumps(cleaned, indent=4, ensure_ascii=False) + "\n"
    assert emails_in(corpus.annotations_dir) == []


def test_the_repository_holds_no_annotator_email():
    checked = run("validate", "--root", REPO, "--format", "json")
    assert "annotator-email" not in {p["code"] for p in json.loads(checked.out)["problems"]}
    assert emails_in(REPO / "annotations") == []


@pytest.mark.studio
def test_a_pull_writes_every_annotator_as_a_user_id(corpus, label_studio):
    write_jsonl(corpus.corpus_dir / "wire.jsonl", [article("wire-1", text(1), "Story 1")])
    env = label_studio.env()
    assert run("studio", "push", "--project", "People", "--root", corpus.root, env=env).code == 0
    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title="People") if p.title == "People"]
    (task,) = client.tasks.list(project=project.id)
    dana = client.users.create(username="dana20", email="dana.lima@newsroom.example", password="x-pass-12345", first_name="Dana", last_name="Lima")
    client.annotations.create(id=task.id, completed_by=dana.id, result=[span(0, 8, "PERSON", "Ana Lima")])
    pulled = run("studio", "pull", "--project", "People", "--root", corpus.root, env=env)
    assert pulled.code == 0, pulled.err
    assert emails_in(corpus.annotations_dir) == [] and "Dana" not in "".join(p.read_text() for p in corpus.exports())
    (stored,) = json.loads(corpus.exports()[0].read_text())
    assert stored["annotations"][0]["completed_by"] == dana.id
