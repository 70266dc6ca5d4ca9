"""The floor: read every input once with the fastest parser here and write Parquet, with no checks.

Articles: pyarrow's JSON reader to Parquet. Exports: msgspec decoding into typed structs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec
import pyarrow.json as pj
import pyarrow.parquet as pq


class Value(msgspec.Struct):
    start: int | None = None
    end: int | None = None
    text: str | None = None
    labels: list[str] | None = None
    choices: list[str] | None = None


class Result(msgspec.Struct):
    type: str
    value: Value | None = None
    from_name: str | None = None
    to_name: str | None = None


class Annotation(msgspec.Struct):
    id: int
    result: list[Result]
    completed_by: int | dict | None = None
    was_cancelled: bool = False
    ground_truth: bool = False


class Data(msgspec.Struct):
    article_id: str
    text: str
    title: str = ""


class Task(msgspec.Struct):
    id: int
    data: Data
    annotations: list[Annotation] = []


def main(corpus: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for shard in sorted((corpus / "corpus").glob("*.jsonl")):
        table = pj.read_json(shard, read_options=pj.ReadOptions(block_size=64 << 20))
        pq.write_table(table, out / f"{shard.stem}.parquet")
    decoder = msgspec.json.Decoder(list[Task])
    spans = 0
    for export in sorted((corpus / "annotations").glob("*.json")):
        tasks = decoder.decode(export.read_bytes())
        spans += sum(len(a.result) for t in tasks for a in t.annotations)
    print(spans)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
