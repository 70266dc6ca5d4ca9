"""Push the corpus to a real Label Studio, annotate through its API as two people, pull, build, load."""

import json

import pytest
from datasets import load_dataset
from label_studio_sdk import LabelStudio

from conftest import REPO, article, new_corpus, run, write_jsonl

pytestmark = pytest.mark.studio

EMOJI_TEXT = "Fans cheered 🎉 as Maria Lopez joined FC Porto on Monday.\nThe club confirmed the deal."
PLAIN_TEXT = "Kenya's parliament passed the budget.\nOpposition leaders in Nairobi objected."


@pytest.fixture
def corpus(tmp_path):
    layout = new_corpus(tmp_path / "c", ["PERSON", "ORG", "GPE", "DATE"], ["politics", "sport"])
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    write_jsonl(layout.corpus_dir / "wire.jsonl", [article("sport-1", EMOJI_TEXT, "Lopez signs for Porto"),
                                                    article("politics-1", PLAIN_TEXT, "Budget passes in Kenya")])
    return layout


def labels(control, start, end, label, text, obj="text"):
    return {"from_name": control, "to_name": obj, "type": "labels", "value": {"start": start, "end": end, "labels": [label], "text": text}}


def choice(*names):
    return {"from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": list(names)}}


def at(text, word):
    start = text.index(word)
    return start, start + len(word)


def test_round_trip_through_a_real_server(corpus, label_studio):
    env = label_studio.env()
    first = run("studio", "push", "--project", "Round trip", "--root", corpus.root, env=env)
    assert first.code == 0, first.err
    assert "pushed 2 tasks" in first.out
    again = run("studio", "push", "--project", "Round trip", "--root", corpus.root, env=env)
    assert "pushed 0 tasks; 2 articles already" in again.out

    client = LabelStudio(base_url=label_studio.url, api_key=label_studio.token)
    (project,) = [p for p in client.projects.list(title="Round trip") if p.title == "Round trip"]
    tasks = {t.data["article_id"]: t.id for t in client.tasks.list(project=project.id, fields="all")}
    assert len(tasks) == 2
    ana = client.users.create(username="ana", email="ana@example.com", password="x-pass-12345")
    ben = client.users.create(username="ben", email="ben@example.com", password="x-pass-12345")
    cho = client.users.create(username="cho", email="cho@example.com", password="x-pass-12345")

    maria, porto, monday = at(EMOJI_TEXT, "Maria Lopez"), at(EMOJI_TEXT, "FC Porto"), at(EMOJI_TEXT, "Monday")
    shared = [labels("entities", *maria, "PERSON", "Maria Lopez"), labels("entities", *porto, "ORG", "FC Porto"), choice("sport")]
    client.annotations.create(id=tasks["sport-1"], completed_by=ana.id,
                              result=shared + [labels("entities", *monday, "DATE", "Monday"), labels("title_entities", 0, 5, "PERSON", "Lopez", "title")])
    client.annotations.create(id=tasks["sport-1"], completed_by=ben.id, result=shared + [labels("title_entities", 0, 5, "PERSON", "Lopez", "title")])
    client.annotations.create(id=tasks["sport-1"], completed_by=cho.id, result=[], was_cancelled=True)
    kenya, nairobi = at(PLAIN_TEXT, "Kenya"), at(PLAIN_TEXT, "Nairobi")
    client.annotations.create(id=tasks["politics-1"], completed_by=ana.id,
                              result=[labels("entities", *kenya, "GPE", "Kenya"), labels("entities", *nairobi, "GPE", "Nairobi"), choice("politics")])

    pulled = run("studio", "pull", "--project", "Round trip", "--root", corpus.root, env=env)
    assert pulled.code == 0, pulled.err
    for output in (first, again, pulled):
        assert label_studio.token not in output.out + output.err
    (export,) = corpus.exports()
    assert export.parent.name == "round-trip"
    assert label_studio.token not in export.read_text()
    assert run("studio", "pull", "--project", "Round trip", "--root", corpus.root, env=env).out.startswith("no change")

    built = run("build", "--version", "1.0.0", "--root", corpus.root)
    assert built.code == 0, built.err
    release = corpus.releases_dir / "v1.0.0"
    docs = {row["id"]: row for split in load_dataset(str(release)).values() for row in split}
    names = load_dataset(str(release))
    features = next(iter(names.values())).features
    label_name = features["entities"].feature["label"].int2str
    topic_name = features["topics"].feature.int2str

    sport = docs["sport-1"]
    assert [(e["start"], e["end"], label_name(e["label"]), e["text"]) for e in sport["entities"]] == [
        (*maria, "PERSON", "Maria Lopez"), (*porto, "ORG", "FC Porto")]  # Monday: 1 of 2 annotators, a tie, dropped
    assert [(e["start"], e["end"], e["text"]) for e in sport["title_entities"]] == [(0, 5, "Lopez")]
    assert [topic_name(t) for t in sport["topics"]] == ["sport"]
    assert sport["annotators"] == 2 and sport["resolution"] == "majority"
    assert sport["entity_agreement"] == pytest.approx(2 * 3 / (4 + 3))
    politics = docs["politics-1"]
    assert [e["text"] for e in politics["entities"]] == ["Kenya", "Nairobi"] and politics["resolution"] == "single"

    raw = [row for split in load_dataset(str(release), "annotations").values() for row in split]
    skipped_by_annotator: dict[str, list[bool]] = {}
    for r in raw:
        assert r["annotator"].startswith("annotator-")
        skipped_by_annotator.setdefault(r["annotator"], []).append(r["was_cancelled"])
    assert sorted(map(sorted, skipped_by_annotator.values())) == [[False], [False, False], [True]]  # ben; ana twice; cho skipped
    card = (release / "README.md").read_text()
    assert "spans_ties_dropped | 1" in card


def test_pull_of_an_unknown_project_writes_nothing_and_names_the_project(corpus, label_studio):
    result = run("studio", "pull", "--project", "No such project", "--root", corpus.root, env=label_studio.env())
    assert result.code == 1 and "No such project" in result.err
    assert corpus.exports() == []


def test_a_wrong_token_is_a_clear_error_that_does_not_print_the_token(corpus, label_studio):
    wrong = "wrong-token-0123456789abcdef"
    result = run("studio", "push", "--root", corpus.root, env=label_studio.env(LABEL_STUDIO_API_KEY=wrong))
    assert result.code == 1
    assert label_studio.url in result.err and "401" in result.err
    assert wrong not in result.out + result.err and "Traceback" not in result.err


def test_a_server_that_is_down_is_a_clear_error(corpus):
    from conftest import StudioServer, free_port

    down = StudioServer(f"http://127.0.0.1:{free_port()}", "some-token-value")
    result = run("studio", "push", "--root", corpus.root, env=down.env())
    assert result.code == 1 and "cannot reach" in result.err and down.url in result.err
    assert "some-token-value" not in result.err


def test_an_article_whose_title_changed_is_pushed_again(corpus, label_studio):
    env = label_studio.env()
    assert "pushed 2 tasks" in run("studio", "push", "--project", "Retitled", "--root", corpus.root, env=env).out
    shard = corpus.corpus_dir / "wire.jsonl"
    records = [json.loads(line) for line in shard.read_text().splitlines()]
    records[0]["title"] = "Lopez signs for FC Porto"
    write_jsonl(shard, records)
    again = run("studio", "push", "--project", "Retitled", "--root", corpus.root, env=env)
    assert "pushed 1 tasks; 1 articles already" in again.out, again.out + again.err


def test_a_fresh_project_pushed_and_pulled_at_once_leaves_the_seeds_gold_as_it_was(tmp_path, label_studio):
    """What a team does when it moves to a second server or starts a new round: push everything to a
    fresh project and pull it back before anybody has annotated. Its empty tasks take nothing away."""
    import shutil

    from newscorpus.layout import Layout

    seed = Layout(tmp_path / "seed")
    for folder in ("schema", "corpus", "annotations"):
        shutil.copytree(REPO / folder, seed.root / folder)
    env = label_studio.env()
    pushed = run("studio", "push", "--project", "Second round", "--root", seed.root, env=env)
    assert pushed.code == 0, pushed.err
    pulled = run("studio", "pull", "--project", "Second round", "--root", seed.root, env=env)
    assert pulled.code == 0, pulled.err
    assert len(seed.exports()) == 3
    validated = run("validate", "--root", seed.root)
    assert validated.code == 0 and "1 tasks awaiting annotation" in validated.out
    assert "second-round" not in validated.out  # no warning about the fresh project's export
    assert run("build", "--version", "9.0.0", "--root", seed.root).code == 0

    def gold(release):
        (row,) = [row for split in load_dataset(str(release)).values() for row in split]
        return row["entities"], row["title_entities"], row["relations"], row["topics"], row["annotators"], row["resolution"]

    entities, *rest = gold(seed.releases_dir / "v9.0.0")
    assert len(entities) == 49
    assert (entities, *rest) == gold(REPO / "releases" / "v1.1.0")
