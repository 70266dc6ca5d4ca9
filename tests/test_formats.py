"""`newscorpus export`: a release in spaCy, CoNLL-2003 and brat form, each read back by the reader on the other side."""

import os
import shutil
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import REPO, annotation, article, new_corpus, run, task, topics, write_export, write_jsonl

V110 = REPO / "releases" / "v1.1.0"
SEED = "ibns-anti-taliban-panjshir"
NESTED = "Mujahideen commander Ahmad Shah Massoud met Amrullah Saleh in the Panjshir valley of Afghanistan."


def export(release: Path, fmt: str, out: Path):
    result = run("export", release, "--format", fmt, "--out", out)
    assert result.code == 0, result.err
    return result


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def named_documents(release: Path) -> dict[str, dict]:
    """`documents` rows by id, labels as names and relations as (head, tail, name)."""
    found = {}
    for split in load_dataset(str(release)).values():
        entity, topic = split.features["entities"].feature["label"].int2str, split.features["topics"].feature.int2str
        relation = split.features["relations"].feature["label"].int2str if "relations" in split.features else None
        for row in split:
            found[row["id"]] = {
                "title": [(e["start"], e["end"], entity(e["label"])) for e in row["title_entities"]],
                "text": [(e["start"], e["end"], entity(e["label"])) for e in row["entities"]],
                "topics": {topic(t) for t in row["topics"]},
                "relations": [(r["head"], r["tail"], relation(r["label"])) for r in row.get("relations") or []],
                "title_text": row["title"], "text_text": row["text"],
            }
    return found


def ner_rows(release: Path, part: str | None = None) -> dict[str, list[tuple[list[str], list[str]]]]:
    """article id -> its `ner` rows in order (of one part, or all), as (tokens, IOB2 tag names)."""
    found: dict[str, list] = {}
    for split in load_dataset(str(release), "ner").values():
        tag = split.features["ner_tags"].feature.int2str
        for row in split:
            if part in (None, row["part"]):
                found.setdefault(row["article_id"], []).append((row["tokens"], [tag(t) for t in row["ner_tags"]]))
    return found


def spacy_docs(path: Path) -> list:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    return list(DocBin().from_disk(path).get_docs(Vocab()))


@pytest.fixture(scope="module")
def nested_release(tmp_path_factory) -> Path:
    """One article whose spans nest and cross, with a relation from a nested span and a span whose edge is inside a word."""
    layout = new_corpus(tmp_path_factory.mktemp("nested") / "c")
    (layout.corpus_dir / "release.json").write_text((REPO / "corpus" / "release.json").read_text())
    record = article("nested-1", NESTED, title="Saleh meets Massoud")
    write_jsonl(layout.corpus_dir / "wire.jsonl", [record])

    def labelled(result_id: str, words: str, label: str, cut: int = 0) -> dict:
        start = NESTED.index(words)
        return {"id": result_id, "from_name": "entities", "to_name": "text", "type": "labels",
                "value": {"start": start, "end": start + len(words) - cut, "labels": [label], "text": words[: len(words) - cut]}}

    results = [
        labelled("commander", "Mujahideen commander Ahmad Shah Massoud", "PERSON"),
        labelled("mujahideen", "Mujahideen", "ORG"),  # nested
        labelled("saleh", "Amrullah Saleh", "PERSON"),
        labelled("valley", "Panjshir valley", "LOC"),
        labelled("valley-of", "valley of Afghanistan", "LOC"),  # crosses "Panjshir valley"
        labelled("afghan", "Afghanistan", "GPE", cut=3),  # "Afghanist": its end is inside a word
        {"from_id": "commander", "to_id": "mujahideen", "type": "relation", "direction": "right", "labels": ["ORG-AFF"]},
        {"from_id": "saleh", "to_id": "afghan", "type": "relation", "direction": "right", "labels": ["PHYS"]},
        topics("politics"),
    ]
    write_export(layout, "2026-01-01.json", [task(1, record, annotation(1, 1, *results))])
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    return layout.releases_dir / "v1.0.0"


def test_the_seed_release_as_spacy_gives_back_every_span_relation_and_topic_of_documents(tmp_path):
    exported = export(V110, "spacy", tmp_path / "spacy")
    assert "spacy holds every span, relation, topic and link" in exported.out
    docs = spacy_docs(tmp_path / "spacy" / "train.spacy")
    documents = named_documents(V110)
    ner = {part: ner_rows(V110, part) for part in ("title", "text")}
    assert [(d.user_data["id"], d.user_data["part"]) for d in docs] == [(i, part) for i in documents for part in ("title", "text")]
    for doc in docs:
        row, part = documents[doc.user_data["id"]], doc.user_data["part"]
        assert doc.text == row[f"{part}_text"]
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]] == row[part]
        assert [(h, t, label) for h, t, label in doc.user_data["relations"]] == (row["relations"] if part == "text" else [])
        assert {name for name, value in doc.cats.items() if value == 1.0} == row["topics"] and set(doc.cats.values()) <= {0.0, 1.0}
        parts = ner[part][doc.user_data["id"]]
        assert [t.text for t in doc if not t.text.isspace()] == [token for tokens, _ in parts for token in tokens]
        assert [t.ent_iob_ + ("-" + t.ent_type_ if t.ent_type_ else "") for t in doc if not t.text.isspace()] == [tag for _, tags in parts for tag in tags]
    text = docs[1]
    assert len(text.spans["sc"]) == 49 and len(text.user_data["relations"]) == 6 and len(text.ents) == 49
    again = export(V110, "spacy", tmp_path / "again")
    assert again.code == 0 and files_of(tmp_path / "again") == files_of(tmp_path / "spacy")


def test_the_seed_release_as_conll_reads_back_through_spacy_equal_to_ner_token_for_token(tmp_path):
    from spacy.training.converters import conll_ner_to_docs

    exported = export(V110, "conll", tmp_path / "conll")
    assert "relations: 6" in exported.out and "topics of articles: 2" in exported.out  # what CoNLL columns cannot hold
    docs = list(conll_ner_to_docs((tmp_path / "conll" / "train.conll").read_text(encoding="utf-8"), no_print=True))
    ner = ner_rows(V110)
    assert len(docs) == len(ner) == 1
    for doc, rows in zip(docs, ner.values()):
        assert [t.text for t in doc] == [token for tokens, _ in rows for token in tokens]
        assert [t.ent_iob_ + ("-" + t.ent_type_ if t.ent_type_ else "") for t in doc] == [tag for _, tags in rows for tag in tags]
        assert sum(t.is_sent_start for t in doc) == len(rows)  # a blank line ends each paragraph
    export(V110, "conll", tmp_path / "again")
    assert files_of(tmp_path / "again") == files_of(tmp_path / "conll")


def test_the_seed_release_as_brat_parses_with_every_annotation_slicing_its_text(tmp_path):
    from pybrat.parser import BratParser

    export(V110, "brat", tmp_path / "brat")
    (example,) = BratParser(error="raise").parse(tmp_path / "brat" / "train")
    row = named_documents(V110)[SEED]
    assert example.id.endswith(SEED) and example.text == f"{row['title_text']}\n{row['text_text']}\n"
    for entity in example.entities:
        assert " ".join(example.text[s.start:s.end] for s in entity.spans) == entity.mention
    shift = len(row["title_text"]) + 1
    spans = [(e.start, e.end, e.type) for e in example.entities if e.type != "Title"]
    assert spans == row["title"] + [(s + shift, e + shift, label) for s, e, label in row["text"]]
    text_entities = [e for e in example.entities if e.type != "Title"][len(row["title"]):]
    assert [(text_entities.index(r.arg1), text_entities.index(r.arg2), r.type) for r in example.relations] == row["relations"]
    ann = (tmp_path / "brat" / "train" / f"{SEED}.ann").read_text()
    assert "AnnotatorNotes T1\ttopics: " in ann and all(topic in ann for topic in row["topics"])
    conf = (tmp_path / "brat" / "annotation.conf").read_text()
    taxonomy = load_dataset(str(V110))["train"].features
    assert all(f"\n{name}\n" in conf for name in taxonomy["entities"].feature["label"].names)
    assert all(f"\n{name}\tArg1:<ENTITY>, Arg2:<ENTITY>" in conf for name in taxonomy["relations"].feature["label"].names)
    assert "<OVERLAP>" in conf and (tmp_path / "brat" / "visual.conf").exists()
    export(V110, "brat", tmp_path / "again")
    assert files_of(tmp_path / "again") == files_of(tmp_path / "brat")


def test_nested_and_crossing_spans_are_kept_where_a_format_can_hold_them_and_counted_where_it_cannot(nested_release, tmp_path):
    from pybrat.parser import BratParser

    row = named_documents(nested_release)["nested-1"]
    assert len(row["text"]) == 6 and len(row["relations"]) == 2

    spacy_run = export(nested_release, "spacy", tmp_path / "spacy")
    title, text = spacy_docs(tmp_path / "spacy" / "train.spacy")
    held = [(s.start_char, s.end_char, s.label_) for s in text.spans["sc"]]
    assert held == [span for span in row["text"] if span[2] != "GPE"]  # "Afghanist" ends inside a token
    assert len(text.ents) < len(held)  # nested and crossing spans are in spans["sc"] only
    assert list(text.user_data["relations"]) == [(0, 1, "ORG-AFF")]
    assert "spans whose edges fall inside a token" in spacy_run.out and "relations with a span left out" in spacy_run.out

    conll_run = export(nested_release, "conll", tmp_path / "conll")
    assert "spans that `ner` drops (nested, crossing, not on whole tokens): 3" in conll_run.out
    assert "spans held only trimmed to whole tokens" not in conll_run.out

    export(nested_release, "brat", tmp_path / "brat")
    (example,) = BratParser(error="raise").parse(tmp_path / "brat" / "train")
    assert len([e for e in example.entities if e.type != "Title"]) == 6 and len(example.relations) == 2


def test_an_export_never_writes_into_a_folder_that_holds_anything(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    refused = run("export", V110, "--format", "conll", "--out", out)
    assert refused.code == 1 and f"{out} is not an empty folder" in refused.err and "Traceback" not in refused.err
    assert files_of(out) == {"mine.txt": b"keep me"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind
    inside = run("export", V110, "--format", "conll", "--out", V110 / "conll")
    assert inside.code == 1 and "which never changes" in inside.err and not (V110 / "conll").exists()


def test_an_export_of_what_is_not_a_release_or_a_changed_release_says_so(tmp_path):
    missing = run("export", tmp_path / "v9.9.9", "--format", "brat", "--out", tmp_path / "out")
    assert missing.code == 1 and "is not a release" in missing.err
    copy = tmp_path / "v1.1.0"
    shutil.copytree(V110, copy)
    shard = copy / "ner" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:-100])
    changed = run("export", copy, "--format", "conll", "--out", tmp_path / "out")
    assert changed.code == 1 and "is not the file its release's manifest.json lists (missing or changed)" in changed.err
    shutil.copy(V110 / "ner" / "train-00000-of-00001.parquet", shard)
    shutil.copy(shard, copy / "ner" / "validation-00000-of-00001.parquet")
    unlisted = run("export", copy, "--format", "conll", "--out", tmp_path / "out")
    assert unlisted.code == 1 and "validation-00000-of-00001.parquet is not the file its release's manifest.json lists (not listed)" in unlisted.err
    assert not (tmp_path / "out").exists()


def test_spacy_is_needed_only_for_the_spacy_format_and_its_absence_is_named(tmp_path):
    blocker = tmp_path / "no-spacy" / "spacy"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('spaCy is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker.parent)}
    refused = run("export", V110, "--format", "spacy", "--out", tmp_path / "spacy", env=env)
    assert refused.code == 1 and "needs the spaCy package" in refused.err and "pip install 'spacy" in refused.err
    assert not (tmp_path / "spacy").exists()
    assert run("export", V110, "--format", "conll", "--out", tmp_path / "conll", env=env).code == 0


def test_an_entity_link_reaches_spacys_kb_id_and_a_brat_normalization_and_is_counted_by_conll():
    """Links come with the taxonomy's `links` section (entities gain `kb_id`); the formats carry them where they can."""
    from collections import Counter

    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    from newscorpus.formats import brat, conll, spacy
    from newscorpus.formats.release_rows import ExportedArticle, NerRow, ReleaseLabels

    labels = ReleaseLabels(["PERSON", "GPE"], ["politics"], [], ["O", "B-PERSON", "I-PERSON", "B-GPE", "I-GPE"])
    text = "Amrullah Saleh left Kabul."
    linked = ExportedArticle("kabul-1", "Saleh", text,
                             [{"start": 0, "end": 14, "label": "PERSON", "text": "Amrullah Saleh", "kb_id": "Q2003399"},
                              {"start": 20, "end": 25, "label": "GPE", "text": "Kabul", "kb_id": None}],
                             [], ["politics"], [])
    linked.ner = {"title": [NerRow(["Saleh"], [0], [5], ["O"])],
                  "text": [NerRow(["Amrullah", "Saleh", "left", "Kabul", "."], [0, 9, 15, 20, 25], [8, 14, 19, 25, 26],
                                  ["B-PERSON", "I-PERSON", "O", "B-GPE", "O"])]}
    unheld = Counter()
    _, doc = DocBin().from_bytes(spacy.docbin_bytes([linked], labels, unheld)).get_docs(Vocab())
    assert [s.kb_id_ for s in doc.spans["sc"]] == ["Q2003399", ""] and [e.kb_id_ for e in doc.ents] == ["Q2003399", ""]
    _, ann = brat.brat_document(linked, labels, unheld)
    assert "N1\tReference T2 KB:Q2003399\tAmrullah Saleh\n" in ann and "N2" not in ann
    assert not unheld
    list(conll.conll_lines([linked], unheld))
    assert unheld["entity links"] == 1 and unheld["topics of articles"] == 1


def test_an_export_into_the_empty_current_folder_fills_it(tmp_path):
    here = tmp_path / "here"
    here.mkdir()
    done = run("export", V110, "--format", "conll", "--out", ".", cwd=here)
    assert done.code == 0, done.err
    assert sorted(files_of(here)) == ["train.conll"]  # v1.1.0 has one split
    assert [p.name for p in tmp_path.iterdir()] == ["here"]  # no staging folder left beside it
    nested = run("export", V110, "--format", "brat", "--out", "exports/brat", cwd=here)
    assert nested.code == 0, nested.err
    assert (here / "exports" / "brat" / "annotation.conf").exists()


def test_a_link_on_a_span_over_a_line_break_stays_on_one_brat_line():
    """A span from the end of one paragraph into the next, linked to Q1; and a topic whose name holds a tab."""
    from collections import Counter

    from newscorpus.formats import brat
    from newscorpus.formats.release_rows import ExportedArticle, ReleaseLabels

    labels = ReleaseLabels(["DATE"], ["talks\tand  treaties"], [], ["O", "B-DATE", "I-DATE"])
    text = "They met on Monday.\nThe talks went well."
    start = text.index("Monday")
    span = text[start:text.index(" went")]
    linked = ExportedArticle("talks-1", "Talks", text, [{"start": start, "end": start + len(span), "label": "DATE", "text": span, "kb_id": "Q1"}],
                             [], ["talks\tand  treaties"], [])
    _, ann = brat.brat_document(linked, labels, Counter())
    lines = ann.splitlines()
    assert len(lines) == 4 and all(line[0] in "TN#" for line in lines), ann
    assert "#1\tAnnotatorNotes T1\ttopics: talks and treaties" in lines
    assert "T2\tDATE 18 25;26 35\tMonday. The talks" in lines  # brat joins a span's fragments with one space
    assert "N1\tReference T2 KB:Q1\tMonday. The talks" in lines
