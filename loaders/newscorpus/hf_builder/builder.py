"""The Hugging Face `datasets` builder of a release: each config's tables, chunk by chunk, into Parquet.

Shaped like datasets' own Parquet loader: one BuilderConfig per release config, features from the
taxonomy in one place (features.release_features), and Arrow tables yielded in batches. The
tables are made beforehand (tables.ChunkTables, one Arrow IPC file per config and chunk, by as
many processes as the build has); chunks have a fixed number of articles, so the Parquet bytes
do not depend on how many processes made them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import datasets
import pyarrow as pa

from ..annotators import Pseudonyms
from ..taxonomy import Taxonomy
from .features import CONFIG_NAMES, release_features


def row_groups(table: pa.Table, max_bytes: int) -> Iterator[pa.Table]:
    """The table in slices of about `max_bytes`: each becomes its own row group(s), and a shard is
    closed only between them, so this bounds both for the Hub viewer. A slice has at least two
    rows: datasets buffers a one-row table into the next row group without counting its bytes."""
    if table.num_rows <= 2:
        yield table
        return
    rows = max(2, table.num_rows * max_bytes // max(table.nbytes, 1))
    starts = list(range(0, table.num_rows, rows))
    if table.num_rows - starts[-1] == 1:
        starts.pop()
    for start, end in zip(starts, [*starts[1:], table.num_rows]):
        yield table.slice(start, end - start)


@dataclass
class BuildPlan:
    """What one build reads and where its chunk tables go."""

    taxonomy: Taxonomy
    store_path: Path
    tables_dir: Path
    pseudonyms: Pseudonyms  # the only annotator names a release carries
    description: str = ""
    license: str = ""
    max_shard_bytes: int = 500_000_000
    max_row_group_bytes: int = 100_000_000
    chunks: dict[str, int] | None = None  # split -> number of chunks, once the articles are partitioned

    @classmethod
    def from_release_settings(cls, settings: dict, taxonomy: Taxonomy, store_path: Path, tables_dir: Path, pseudonyms: Pseudonyms) -> "BuildPlan":
        return cls(taxonomy, store_path, tables_dir, pseudonyms, settings["description"], settings["license"],
                   int(settings.get("max_shard_mb", 500) * 1e6), int(settings.get("max_row_group_mb", 100) * 1e6))

    def chunk_table(self, config: str, split: str, index: int) -> Path:
        return self.tables_dir / config / f"{split}-{index:06d}.arrow"


class NewsCorpus(datasets.ArrowBasedBuilder):
    BUILDER_CONFIGS = [datasets.BuilderConfig(name=name) for name in CONFIG_NAMES]
    DEFAULT_CONFIG_NAME = "documents"

    def __init__(self, *args, plan: BuildPlan, **kwargs):
        self.plan = plan
        super().__init__(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.plan.description, license=self.plan.license,
                                    features=release_features(self.config.name, self.plan.taxonomy))

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=split, gen_kwargs={"tables": [self.plan.chunk_table(self.config.name, split, i) for i in range(n)]})
                for split, n in self.plan.chunks.items()]

    def _generate_tables(self, tables: list[Path]):
        keys = count()
        for path in tables:
            with pa.OSFile(str(path)) as source:
                table = pa.ipc.open_file(source).read_all()
            for part in row_groups(table, self.plan.max_row_group_bytes):
                if part.num_rows:
                    yield datasets.builder.Key(0, next(keys)), part
