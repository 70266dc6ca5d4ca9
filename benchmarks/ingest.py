"""Bulk add against the floor: `newscorpus add` of N JSONL article records next to pyarrow reading
the same file (`python -m benchmarks.ingest --records 100000`). The aim: add within 3x of that.

The add is timed as a user runs it (the console script in a fresh corpus, process start included);
pyarrow's read_json runs in this process. Records are benchmarks.generate's synthetic articles.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow.json as pj

from .generate import WORDS, article_text

NEWSCORPUS = Path(sys.executable).parent / "newscorpus"


def write_records(path: Path, count: int, seed: int = 20261125) -> None:
    rng = random.Random(seed)
    with path.open("wb") as handle:
        for n in range(count):
            text, _ = article_text(rng)
            handle.write(orjson.dumps({"id": f"bench-{n:07d}", "title": f"Report {n}: {rng.choice(WORDS)}", "text": text,
                                       "url": f"https://example.org/{n}", "date_publish": "2026-03-04 05:06:07", "language": "en"}) + b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None, help="Folder for the records file and the corpus (default: a temporary one).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newscorpus-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    records = work / f"records-{args.records}.jsonl"
    if not records.exists():
        write_records(records, args.records)
    size = records.stat().st_size / 1e6

    started = time.perf_counter()
    table = pj.read_json(records)
    floor = time.perf_counter() - started
    assert table.num_rows == args.records

    corpus = work / "corpus-root"
    shutil.rmtree(corpus, ignore_errors=True)
    (corpus / "corpus").mkdir(parents=True)
    started = time.perf_counter()
    done = subprocess.run([str(NEWSCORPUS), "add", str(records), "--source", "Bench", "--root", str(corpus)], capture_output=True, text=True)
    added = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"newscorpus add failed:\n{done.stderr[-2000:]}")

    print(f"{args.records:,} records, {size:,.0f} MB of JSONL")
    print(f"{'step':<40} {'wall s':>8} {'MB/s':>8} {'x floor':>8}")
    print(f"{'pyarrow.json.read_json (floor)':<40} {floor:>8.2f} {size / floor:>8.0f} {1:>8.2f}")
    print(f"{'newscorpus add (checked, written)':<40} {added:>8.2f} {size / added:>8.0f} {added / floor:>8.2f}")


if __name__ == "__main__":
    main()
