"""Two annotators disagree; `studio review` queues the article in a real Label Studio; a third user
adjudicates; pull and build: the reviewer's labels are the article's gold."""

import json

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import REPO, article, new_corpus, pseudonym, run, write_jsonl

pytestmark = pytest.mark.studio

SPORT = "Fans cheered as Maria Lopez joined FC Porto on Monday.\nThe club confirmed the deal."
POLITICS = "Kenya's parliament passed the budget.\nOpposition leaders in Nairobi objected."


def labels(start, end, label, text):
    return {"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": start, "end": end, "labels": [label], "text": text}}


def choice(*names):
    return {"from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": list(names)}}


def mention(text, word, label):
    start = text.index(word)
    return labels(start, start + len(word), label, word)


@pytest.fixture
def corpus(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE", "DATE"], ["politics", "sport"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("sport-1", SPORT, "Lopez signs"), article("politics-1", POLITICS, "Budget passes")])
    return layout


def pushed(corpus, label_studio, project_title: str, usernames: tuple[str, ...]):
    """The corpus pushed to a new project: the environment, a client, task id by article id, and new users."""
    env = label_studio.env()
    assert run("studio", "push", "--project", project_title, "--root", corpus.root, env=env).code == 0
    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title=project_title) if p.title == project_title]
    tasks = {t.data["article_id"]: t.id for t in client.tasks.list(project=project.id, fields="all")}
    users = [client.users.create(username=n, email=f"{n}@example.com", password="x-pass-12345") for n in usernames]
    return env, client, tasks, users


def test_a_disagreement_is_adjudicated_by_a_reviewer(corpus, label_studio):
    env, client, tasks, (ana, ben, cho) = pushed(corpus, label_studio, "Desk", ("ana13b", "ben13b", "cho13b"))

    # ana and ben agree on Maria Lopez; ana alone sees a DATE and a second topic; ben calls FC Porto a GPE.
    client.annotations.create(id=tasks["sport-1"], completed_by=ana.id, result=[
        mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "FC Porto", "ORG"), mention(SPORT, "Monday", "DATE"), choice("sport", "politics")])
    client.annotations.create(id=tasks["sport-1"], completed_by=ben.id, result=[
        mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "FC Porto", "GPE"), choice("sport")])
    agreed = [mention(POLITICS, "Kenya", "GPE"), mention(POLITICS, "Nairobi", "GPE"), choice("politics")]
    for user in (ana, ben):
        client.annotations.create(id=tasks["politics-1"], completed_by=user.id, result=agreed)
    assert run("studio", "pull", "--project", "Desk", "--root", corpus.root, env=env).code == 0

    reviewed = run("studio", "review", "--project", "Desk", "--root", corpus.root, env=env)
    assert reviewed.code == 0, reviewed.err
    assert "queued 1 disagreements in 'Desk review'; 0 already queued" in reviewed.out
    again = run("studio", "review", "--project", "Desk", "--root", corpus.root, env=env)
    assert "queued 0 disagreements in 'Desk review'; 1 already queued" in again.out, again.out + again.err

    (queue,) = [p for p in client.projects.list(title="Desk review") if p.title == "Desk review"]
    (review_task,) = client.tasks.list(project=queue.id, fields="all")
    assert review_task.data["article_id"] == "sport-1" and review_task.data["text"] == SPORT
    (union,) = client.predictions.list(task=review_task.id)
    offered = {(r["value"]["labels"][0], r["value"]["text"]): r for r in union.result if r["type"] == "labels"}
    assert set(offered) == {("PERSON", "Maria Lopez"), ("ORG", "FC Porto"), ("GPE", "FC Porto"), ("DATE", "Monday")}
    assert offered[("PERSON", "Maria Lopez")]["score"] == 1.0 and offered[("DATE", "Monday")]["score"] == 0.5
    assert offered[("DATE", "Monday")]["meta"]["text"] == [f"1 of 2 annotators: user:{ana.id}"]
    (topics,) = [r for r in union.result if r["type"] == "choices"]
    assert topics["value"]["choices"] == ["politics", "sport"]
    assert {v["label"]: v["votes"] for v in review_task.data["review"]["spans"]}["DATE"] == [f"user:{ana.id}"]

    # cho deletes what is wrong and submits: that is the article's gold.
    client.annotations.create(id=review_task.id, completed_by=cho.id, result=[
        mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "FC Porto", "ORG"), choice("sport")])
    pulled = run("studio", "pull", "--project", "Desk", "--root", corpus.root, env=env)
    assert pulled.code == 0, pulled.err
    assert "wrote annotations/desk-review/" in pulled.out and "no change since the last pull" in pulled.out
    assert run("studio", "review", "--project", "Desk", "--root", corpus.root, env=env).out.startswith("queued 0 disagreements")

    built = run("build", "--version", "1.0.0", "--root", corpus.root)
    assert built.code == 0, built.err
    release = corpus.releases_dir / "v1.0.0"
    docs = {row["id"]: row for split in load_dataset(str(release)).values() for row in split}
    label_name = next(iter(load_dataset(str(release)).values())).features["entities"].feature["label"].int2str
    sport = docs["sport-1"]
    assert [(e["text"], label_name(e["label"])) for e in sport["entities"]] == [("Maria Lopez", "PERSON"), ("FC Porto", "ORG")]
    assert sport["resolution"] == "adjudicated" and sport["annotators"] == 2
    assert sport["entity_agreement"] == pytest.approx(2 * 1 / (3 + 2))  # ana and ben, before adjudication
    assert docs["politics-1"]["resolution"] == "majority"

    rows = [row for split in load_dataset(str(release), "annotations").values() for row in split if row["article_id"] == "sport-1"]
    assert sorted((r["annotator"], r["review"]) for r in rows) == sorted([(pseudonym(corpus, ana.id), False), (pseudonym(corpus, ben.id), False), (pseudonym(corpus, cho.id), True)])
    card = (release / "README.md").read_text()
    assert "Articles adjudicated by a reviewer: 1." in card
    assert "resolved_adjudicated | 1" in card


def test_a_review_outdated_by_a_changed_vote_stays_gold_until_the_article_is_reviewed_again(corpus, label_studio):
    env, client, tasks, (ana, ben, cho) = pushed(corpus, label_studio, "Round", ("ana20", "ben20", "cho20"))
    client.annotations.create(id=tasks["sport-1"], completed_by=ana.id, result=[mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "Monday", "DATE")])
    bens = client.annotations.create(id=tasks["sport-1"], completed_by=ben.id, result=[mention(SPORT, "Maria Lopez", "PERSON")])
    assert run("studio", "pull", "--project", "Round", "--root", corpus.root, env=env).code == 0
    assert run("studio", "review", "--project", "Round", "--root", corpus.root, env=env).out.startswith("queued 1 disagreements")
    (queue,) = [p for p in client.projects.list(title="Round review") if p.title == "Round review"]
    (first_task,) = client.tasks.list(project=queue.id, fields="all")
    client.annotations.create(id=first_task.id, completed_by=cho.id, result=[mention(SPORT, "Maria Lopez", "PERSON")])
    assert run("studio", "pull", "--project", "Round", "--root", corpus.root, env=env).code == 0
    assert "review-outdated" not in run("validate", "--root", corpus.root).out

    # After the review, ben sees the DATE too and edits his annotation in Label Studio.
    client.annotations.update(id=bens.id, result=[mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "Monday", "DATE")])
    assert run("studio", "pull", "--project", "Round", "--root", corpus.root, env=env).code == 0
    checked = run("validate", "--root", corpus.root, "--format", "json")
    assert checked.code == 0, checked.out
    (outdated,) = [p for p in json.loads(checked.out)["problems"] if p["code"] == "review-outdated"]
    assert outdated["file"].startswith("annotations/round-review/") and outdated["task"] == first_task.id
    assert outdated["pointer"].endswith("/annotations/0")
    built = run("build", "--version", "1.0.0", "--root", corpus.root)
    assert built.code == 0, built.err
    assert gold(corpus, "1.0.0") == ([("Maria Lopez", "PERSON")], "adjudicated")  # the old review still decides

    requeued = run("studio", "review", "--project", "Round", "--root", corpus.root, env=env)
    assert requeued.out.startswith("queued 1 disagreements"), requeued.out + requeued.err
    assert run("studio", "review", "--project", "Round", "--root", corpus.root, env=env).out.startswith("queued 0 disagreements in 'Round review'; 1 already queued")
    (second_task,) = [t for t in client.tasks.list(project=queue.id, fields="all") if t.id != first_task.id]
    (union,) = client.predictions.list(task=second_task.id)
    offered = {r["value"]["text"]: r["score"] for r in union.result if r["type"] == "labels"}
    assert offered == {"Maria Lopez": 1.0, "Monday": 1.0}  # the new votes: both annotators now mark the DATE
    assert {v["text"]: len(v["votes"]) for v in second_task.data["review"]["spans"]} == {"Maria Lopez": 2, "Monday": 2}

    client.annotations.create(id=second_task.id, completed_by=cho.id, result=[mention(SPORT, "Maria Lopez", "PERSON"), mention(SPORT, "Monday", "DATE")])
    assert run("studio", "pull", "--project", "Round", "--root", corpus.root, env=env).code == 0
    assert "review-outdated" not in run("validate", "--root", corpus.root).out
    assert run("build", "--version", "1.1.0", "--root", corpus.root).code == 0
    assert gold(corpus, "1.1.0") == ([("Maria Lopez", "PERSON"), ("Monday", "DATE")], "adjudicated")
    assert run("studio", "review", "--project", "Round", "--root", corpus.root, env=env).out.startswith("queued 0 disagreements")


def gold(corpus, version: str) -> tuple[list, str]:
    documents = load_dataset(str(corpus.releases_dir / f"v{version}"))
    label_name = next(iter(documents.values())).features["entities"].feature["label"].int2str
    (row,) = [row for split in documents.values() for row in split if row["id"] == "sport-1"]
    return [(e["text"], label_name(e["label"])) for e in row["entities"]], row["resolution"]
