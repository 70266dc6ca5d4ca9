"""Time to the first batch: load_dataset of a release against pyarrow reading the same files."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from datasets import load_dataset


def main(release: Path) -> None:
    started = time.perf_counter()
    for path in sorted((release / "documents").glob("*.parquet")):
        pq.read_table(path)
    arrow = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        loaded = load_dataset(str(release), "documents", cache_dir=cache)
        next(iter(next(iter(loaded.values())).iter(batch_size=1000)))
        hf = time.perf_counter() - started
    print(json.dumps({"load_dataset_first_batch_s": hf, "pyarrow_read_table_s": arrow}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
