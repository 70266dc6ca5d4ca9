"""Given a text file, `newscorpus add` puts it in the corpus without the publisher's boilerplate."""

import json
import shutil

from conftest import REPO, SEED_TEXT as SEED, new_corpus, run


def test_adding_the_seed_gives_the_committed_record_and_adding_it_again_is_refused(tmp_path):
    layout = new_corpus(tmp_path / "c")
    shutil.copy(REPO / "corpus" / "boilerplate.json", layout.boilerplate_path)
    added = run("add", SEED, "--id", "ibns-anti-taliban-panjshir", "--source", "IBNS", "--root", layout.root)
    assert added.code == 0, added.err
    (ours,) = [json.loads(line) for line in (layout.corpus_dir / "ibns.jsonl").read_text().splitlines()]
    (committed,) = [json.loads(line) for line in (REPO / "corpus" / "ibns.jsonl").read_text().splitlines()]
    assert ours == committed
    assert "Support Our Journalism" in SEED.read_text() and "Support Our Journalism" not in ours["text"]
    again = run("add", SEED, "--id", "ibns-anti-taliban-panjshir", "--source", "IBNS", "--root", layout.root)
    assert again.code == 1 and "[duplicate-id]" in again.err and "Traceback" not in again.err
    assert (layout.corpus_dir / "ibns.jsonl").read_text().count("\n") == 1


def test_an_id_outside_the_pattern_is_refused_and_nothing_is_written(tmp_path):
    layout = new_corpus(tmp_path / "c")
    result = run("add", SEED, "--id", "../escape", "--source", "IBNS", "--root", layout.root)
    assert result.code == 1 and "/id" in result.err and "[schema-error]" in result.err
    assert list(layout.corpus_dir.iterdir()) == []


def test_a_crlf_latin1_file_is_refused_with_its_name(tmp_path):
    layout = new_corpus(tmp_path / "c")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Caf\xe9 owners protest\r\nText.".encode("latin-1"))
    result = run("add", bad, "--id", "cafe", "--source", "Wire", "--root", layout.root)
    assert result.code == 1 and "latin1.txt" in result.err and "UTF-8" in result.err
