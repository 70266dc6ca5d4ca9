"""Releases the Hub viewer can show whole: shards and row groups bounded by corpus/release.json,
shards named as the Hub expects, and a many-shard release still loads with plain load_dataset."""

import json

import pyarrow.parquet as pq
from datasets import load_dataset

from conftest import REPO, gum_corpus, run


def test_a_release_larger_than_one_shard_is_split_into_hub_named_shards_that_load_whole(tmp_path):
    layout = gum_corpus(tmp_path / "gum")
    settings = json.loads((REPO / "corpus" / "release.json").read_text())
    (layout.corpus_dir / "release.json").write_text(json.dumps({**settings, "max_shard_mb": 0.1, "max_row_group_mb": 0.05}))
    built = run("build", "--version", "1.0.0", "--root", layout.root)
    assert built.code == 0, built.err
    release = layout.releases_dir / "v1.0.0"
    manifest = json.loads((release / "manifest.json").read_text())
    shards = sorted(p.name for p in (release / "documents").glob("train-*.parquet"))
    count = len(shards)
    assert count >= 2 and shards == [f"train-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    for path in (release / "documents").glob("*.parquet"):
        metadata = pq.ParquetFile(path).metadata
        assert metadata.num_row_groups >= 1
        for i in range(metadata.num_row_groups):
            assert metadata.row_group(i).total_byte_size <= 2 * 0.05e6, (path.name, i)  # two rows at least, each < 0.05 MB
    documents = load_dataset(str(release), "documents")
    expected = sum(f["rows"] for f in manifest["files"] if f["path"].startswith("documents/"))
    assert sum(len(split) for split in documents.values()) == expected == 24
    ids = [row["id"] for split in documents.values() for row in split]
    assert len(set(ids)) == 24


def test_the_files_do_not_depend_on_how_many_processes_built_them(tmp_path):
    layout = gum_corpus(tmp_path / "gum")
    settings = json.loads((REPO / "corpus" / "release.json").read_text())
    (layout.corpus_dir / "release.json").write_text(json.dumps({**settings, "max_shard_mb": 0.1, "max_row_group_mb": 0.05}))
    for num_proc in ("1", "2"):
        built = run("build", "--version", "1.0.0", "--root", layout.root, "--out", tmp_path / num_proc, "--num-proc", num_proc)
        assert built.code == 0, built.err
    one, two = tmp_path / "1" / "v1.0.0", tmp_path / "2" / "v1.0.0"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".parquet"]) > 8  # several shards per config
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for f in files:
        assert (one / f).read_bytes() == (two / f).read_bytes(), f
