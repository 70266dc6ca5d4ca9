"""Properties: whatever articles and spans annotators produce, the release holds them exactly."""

import json
import unicodedata

from datasets import load_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, new_corpus, write_jsonl
from newscorpus.corpus import shard_name
from newscorpus.release.build import build_release
from newscorpus.studio.pull import project_folder

LABELS = ["PERSON", "ORG", "GPE"]
CHARACTERS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Co", "Cn"]),
    st.sampled_from(["\n", " ", "🎉", "北", "é", "ा", "\u200d", "\u0301"]),
)


@st.composite
def annotated_article(draw):
    text = unicodedata.normalize("NFC", draw(st.text(CHARACTERS, min_size=1, max_size=300)))
    text = text if text.strip() else text + "x"
    spans = set()
    for _ in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        spans.add((start, end, draw(st.sampled_from(LABELS))))
    return text, sorted(spans)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(articles=st.lists(annotated_article(), min_size=1, max_size=4))
def test_random_articles_and_spans_survive_build_and_load_exactly(tmp_path_factory, articles):
    layout = new_corpus(tmp_path_factory.mktemp("prop") / "c", LABELS)
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    records = [{"id": f"a{i}", "title": "T", "text": text, "source": "S", "language": "en"} for i, (text, _) in enumerate(articles)]
    write_jsonl(layout.corpus_dir / "s.jsonl", records)
    tasks = [{"id": i + 1, "data": {"article_id": r["id"], "title": r["title"], "text": r["text"]},
              "annotations": [{"id": i + 1, "completed_by": 1, "result": [
                  {"from_name": "entities", "to_name": "text", "type": "labels", "value": {"start": s, "end": e, "labels": [label], "text": r["text"][s:e]}}
                  for s, e, label in spans]}]} for i, (r, (_, spans)) in enumerate(zip(records, articles))]
    (layout.annotations_dir / "export.json").write_text(json.dumps(tasks, ensure_ascii=False))
    release = build_release(layout, "1.0.0", layout.releases_dir)
    loaded = load_dataset(str(release), cache_dir=str(layout.root / "hf-cache"))
    documents = {row["id"]: row for split in loaded.values() for row in split}
    assert sorted(documents) == [r["id"] for r in records]
    for record, (text, spans) in zip(records, articles):
        row = documents[record["id"]]
        assert row["text"] == text
        assert sorted((e["start"], e["end"], LABELS[e["label"]]) for e in row["entities"]) == spans
        assert all(e["text"] == text[e["start"]:e["end"]] for e in row["entities"])


def test_names_that_become_paths_cannot_leave_their_folder():
    assert shard_name("../../etc/passwd") == "etc-passwd"
    assert project_folder("../../.ssh") == "ssh"
    assert project_folder("/") == "project" and shard_name("..") == "articles"
