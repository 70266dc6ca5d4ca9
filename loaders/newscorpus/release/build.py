"""Build a release: check the inputs, cut each split's articles into chunks whose tables the
workers make, run the builder for every config and lay out an immutable release folder.

Everything is written under a staging folder beside the target and renamed into place at the end,
so a build that fails or is killed never leaves a partial releases/vX.Y.Z. The card, manifest and
Croissant file are all generated from the files just written.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sqlite3
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import datasets.utils.logging
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .. import progress
from ..agreement.figures import CONFUSION_FILE, PAIRS_FILE, confusion_png, pair_matrix_png
from ..agreement.measures import AgreementMeasures, LabelNames, measure
from ..agreement.reading import stored_articles
from ..agreement.render import render_json
from ..agreement.report import REPORT_FILE, previous_agreement
from ..annotators import Pseudonyms, load_or_create_key
from ..hf_builder.builder import BuildPlan, NewsCorpus
from ..hf_builder.features import CONFIG_NAMES
from ..hf_builder.tables import ChunkTables
from ..corpus import iter_lines
from ..files import write_atomically, writing
from ..layout import Layout
from ..problems import CommandError, InputError, Problem, Report
from ..resolve import Resolver, ResolvedStore
from ..settings import check_release_settings
from ..split import SPLITS, SplitSettings
from ..taxonomy import Taxonomy, check_taxonomy
from ..validate import check_inputs
from ..workers import collect_less, pool_size, worker_pool
from .card import label_panels, render_card
from .croissant import croissant_metadata
from .diff import changelog
from .label_chart import CHART_FILE, label_chart_png
from .manifest import ReleaseFile, read_manifest, releases_in, same_version_folders, sha256_of, tool_versions, version_key

STAGING = re.compile(r"^\.staging-v[\d.]+-(\d+)$")
# Articles per chunk of a split, the unit of work of the tables: fixed, so that the bytes of a
# release do not depend on the number of processes that made it.
CHUNK_ARTICLES = 1000
WRITE_FAILURES = (OSError, sqlite3.OperationalError)  # SQLite says "database or disk is full"


@dataclass
class BuiltConfig:
    name: str
    info: datasets.DatasetInfo
    files: dict[str, list[ReleaseFile]] = field(default_factory=dict)  # split -> shards


def load_release_settings(layout: Layout) -> dict:
    data, problems = check_release_settings(layout)
    if problems:
        raise InputError(Report(problems), "the release settings are invalid")
    return data


def remove_abandoned_staging(out_dir: Path) -> None:
    """Staging folders of builds whose process is gone (killed, crashed) are removed."""
    for path in out_dir.glob(".staging-v*"):
        match = STAGING.match(path.name)
        if match and not pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def input_files(layout: Layout) -> list[Path]:
    fixed = [layout.taxonomy_path, layout.release_settings_path, layout.pseudonym_key_path]
    return [p for p in fixed if p.exists()] + layout.shards() + layout.exports()


@dataclass(frozen=True)
class ArticleChunk:
    """Up to CHUNK_ARTICLES consecutive articles of one split: where each one's line lies in the corpus."""

    split: str
    index: int
    ids: list[str]
    lines: list[tuple[int, int, int]]  # shard number, byte offset, length


def partition_articles(layout: Layout, ids: list[str], splits: dict[str, str]) -> list[ArticleChunk]:
    """Each split's articles in corpus order, cut into chunks. A valid corpus has one article per
    line that iter_lines yields, in the order validation saw them, so the lines are found without parsing."""
    lines: dict[str, list] = {name: [] for name in SPLITS}
    order = iter(ids)
    for number, path in enumerate(layout.shards()):
        for _, offset, raw in iter_lines(path, layout.relative(path)):
            article_id = next(order, None)
            if article_id is None or isinstance(raw, Problem):
                raise CommandError(f"{path} changed during the build (it is not what was checked); build again")
            lines[splits[article_id]].append((article_id, (number, offset, len(raw))))
            progress.advance()
    if next(order, None) is not None:
        raise CommandError(f"{layout.corpus_dir} changed during the build (it has fewer articles than were checked); build again")
    return [ArticleChunk(name, i // CHUNK_ARTICLES, [a for a, _ in part], [line for _, line in part])
            for name in SPLITS for i in range(0, len(lines[name]), CHUNK_ARTICLES) for part in [lines[name][i : i + CHUNK_ARTICLES]]]


def write_chunk_tables(plan: BuildPlan, shards: list[Path], chunk: ArticleChunk) -> tuple[Counter, AgreementMeasures]:
    """The four configs' tables of one chunk, each an Arrow IPC file; returns the counts and the agreement the card reports."""
    records = []
    handles = {}
    try:
        for article_id, (number, offset, length) in zip(chunk.ids, chunk.lines):
            handle = handles.get(number) or handles.setdefault(number, shards[number].open("rb"))
            handle.seek(offset)
            try:
                record = orjson.loads(handle.read(length))
            except orjson.JSONDecodeError:
                record = None
            if not isinstance(record, dict) or record.get("id") != article_id:
                raise CommandError(f"{shards[number]} changed during the build: expected article {article_id!r} at byte {offset}; build again")
            records.append(record)
    finally:
        for handle in handles.values():
            handle.close()
    store = ResolvedStore(plan.store_path)
    try:
        resolved = [store.get(article_id) for article_id in chunk.ids]
    finally:
        store.close()
    tables = ChunkTables(plan.taxonomy, plan.pseudonyms)
    for name, table in tables.tables(records, resolved).items():
        path = plan.chunk_table(name, chunk.split, chunk.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    agreement = measure(stored_articles(records, resolved, plan.pseudonyms), LabelNames.of(plan.taxonomy))
    progress.advance(len(chunk.ids))
    progress.flush()
    return tables.counts, agreement


def build_release(layout: Layout, version: str, out_dir: Path, history_dir: Path | None = None, num_proc: int | None = None) -> Path:
    """Build releases/vX.Y.Z. Earlier releases in `history_dir` (default `out_dir`) fix the splits.

    `num_proc` processes check the inputs, make the tables chunk by chunk and write the configs
    (None: workers.pool_size). Chunks are fixed and each config is written by one process, so the
    bytes do not depend on it.
    """
    version_key(version)
    datasets.utils.logging.disable_progress_bar()
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"{out_dir} is not a folder: --out names the folder that holds the releases")
    refuse_existing(out_dir, version)
    settings = load_release_settings(layout)
    with writing(out_dir, "the release", WRITE_FAILURES):  # each stage names itself; this is for the folder, the lock, the rename
        out_dir.mkdir(parents=True, exist_ok=True)
        with build_lock(out_dir, version):
            refuse_existing(out_dir, version)  # the build that held the lock may just have written it
            return write_release(layout, version, settings, out_dir, history_dir or out_dir, num_proc)


def refuse_existing(out_dir: Path, version: str) -> None:
    existing = same_version_folders(out_dir, version)
    if existing:
        raise CommandError(f"{existing[0]} exists and releases are immutable; choose a new version")


@contextmanager
def build_lock(out_dir: Path, version: str):
    """One build of a version at a time: the second is refused and told which process holds it.

    The lock file is removed by its holder; a build that locked a file someone removed meanwhile
    tries again, so two builds never hold two different files.
    """
    path = out_dir / f".lock-v{version}"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CommandError(f"another build of v{version} is running (process {holder}, lock {path}); wait for it to finish") from None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        Path(path).unlink(missing_ok=True)
        os.close(fd)


def write_release(layout: Layout, version: str, settings: dict, out_dir: Path, history_dir: Path, num_proc: int | None) -> Path:
    target = out_dir / f"v{version}"
    remove_abandoned_staging(out_dir)
    staging = out_dir / f".staging-v{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        collect_less()
        with worker_pool(pool_size(layout.shards(), num_proc), (__name__,)) as pool:  # first: the workers import while this process validates
            taxonomy, problems = check_taxonomy(layout)
            if taxonomy is None:
                raise InputError(Report(problems), "the release was not built: the taxonomy is invalid")
            with writing(out_dir, "the resolved labels", WRITE_FAILURES):
                store = ResolvedStore(staging / "resolved.sqlite")
                resolver = Resolver(store, taxonomy.topic_names)
                report, taxonomy, corpus_order = check_inputs(layout, resolver, SplitSettings.from_release_settings(settings), pool)
                store.commit()
                store.close()
            if not report.valid:
                raise InputError(report, "the release was not built: the inputs are invalid")
            earlier = [v for v in releases_in(history_dir) if version_key(v) < version_key(version)]
            previous = earlier[-1] if earlier else None
            previous_splits = read_manifest(history_dir / f"v{previous}")["splits"] if previous else {}
            with progress.stage("assigning splits"):
                splits = corpus_order.near_duplicates.assign(previous_splits)
            with progress.stage("partitioning articles", total=len(splits)):
                chunks = partition_articles(layout, corpus_order.ids, splits)
            with writing(layout.annotations_dir, "the pseudonym key", WRITE_FAILURES):
                key = load_or_create_key(layout)
            plan = BuildPlan.from_release_settings(settings, taxonomy, staging / "resolved.sqlite", staging / "tables", Pseudonyms(key))
            plan.chunks = dict(Counter(chunk.split for chunk in chunks))
            release_dir = staging / "release"
            stats = Counter()
            measures = AgreementMeasures(LabelNames.of(taxonomy))
            with progress.stage("writing configs", total=len(splits)) as stage:
                with writing(out_dir, "the tables of the configs", WRITE_FAILURES):
                    for counts, chunk_agreement in pool.run(write_chunk_tables, [(plan, layout.shards(), chunk) for chunk in chunks], stage):
                        stats.update(counts)
                        measures.merge(chunk_agreement)
                with writing(out_dir, "the Parquet shards", WRITE_FAILURES):
                    built = [c for c in pool.run(build_config, [(plan, name, staging, release_dir) for name in CONFIG_NAMES]) if c.files]
        stats.update(resolver.counts)
        for intermediate in staging.iterdir():  # the room they take is the card's
            if intermediate.is_dir() and intermediate != release_dir:
                shutil.rmtree(intermediate)
            elif intermediate.is_file():
                intermediate.unlink()
        with progress.stage("writing card and manifest", unit=""):
            inputs = [{"path": layout.relative(p), "sha256": sha256_of(p)} for p in input_files(layout)]
            agreement = measures.report()
            earlier_agreement = previous_agreement(history_dir / f"v{previous}") if previous and agreement["articles"] else None
            context = ReleaseContext(version, settings, taxonomy, built, stats, resolver, previous,
                                     changelog(history_dir / f"v{previous}", release_dir) if previous else None, agreement, earlier_agreement)
            with writing(out_dir, "the Croissant file", WRITE_FAILURES):
                write_atomically(release_dir / "croissant.json", orjson.dumps(croissant_metadata(context, release_dir), option=orjson.OPT_INDENT_2) + b"\n")
            panels = label_panels(context, release_dir)
            with writing(out_dir, "the picture", WRITE_FAILURES):
                write_atomically(release_dir / CHART_FILE, label_chart_png(panels))
            with writing(out_dir, "the agreement report", WRITE_FAILURES):
                if agreement["articles"]:
                    write_atomically(release_dir / REPORT_FILE, render_json(agreement).encode())
                    write_atomically(release_dir / PAIRS_FILE, pair_matrix_png(agreement))
                if agreement["confusion"]:
                    write_atomically(release_dir / CONFUSION_FILE, confusion_png(agreement))
            with writing(out_dir, "the card", WRITE_FAILURES):
                write_atomically(release_dir / "README.md", render_card(context, release_dir, panels).encode())
            manifest = {
                "version": version,
                "tool": tool_versions(),
                "previous": previous,
                "files": [{key: value for key, value in f.__dict__.items() if value is not None} for f in all_files(built, release_dir)],
                "inputs": inputs,
                "stats": dict(sorted(stats.items())),
                "splits": splits,
            }
            with writing(out_dir, "the manifest", WRITE_FAILURES):
                write_atomically(release_dir / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        os.rename(release_dir, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    show_summary(built, report, progress.current())
    return target


def show_summary(configs: list[BuiltConfig], report: Report, display: progress.Display) -> None:
    """The end of a build on a terminal: rows per config and split, warnings by code, seconds per stage."""
    display.table("rows", ["config", *SPLITS], [[c.name, *(sum(f.rows for f in c.files.get(s, [])) for s in SPLITS)] for c in configs])
    warnings = Counter(p.code for p in report.warnings)
    display.table("warnings", ["code", "count"], [[code, n] for code, n in sorted(warnings.items())] or [["none", 0]])
    display.table("seconds", ["stage", "seconds"], [[name, s] for name, s in display.seconds.items()] + [["total", display.elapsed]])


@dataclass
class ReleaseContext:
    """Everything the card and the Croissant file say, gathered once."""

    version: str
    settings: dict
    taxonomy: Taxonomy
    configs: list[BuiltConfig]
    stats: Counter
    resolver: Resolver
    previous: str | None
    changes: dict | None
    agreement: dict | None = None  # agreement.measures' report of this release
    previous_agreement: dict | None = None  # the previous release's, when this one has agreement to compare


def build_config(plan: BuildPlan, name: str, staging: Path, release_dir: Path) -> BuiltConfig:
    """Run the builder for one config over its chunk tables and move its shards to Hub names; empty splits are left out."""
    datasets.utils.logging.disable_progress_bar()
    raw = staging / "raw" / name
    builder = NewsCorpus(plan=plan, config_name=name, cache_dir=str(staging / "cache"))
    try:
        builder.download_and_prepare(output_dir=str(raw), file_format="parquet", max_shard_size=plan.max_shard_bytes)
    except datasets.exceptions.DatasetGenerationError as err:  # it wraps a failed write: the write's own error says what happened
        if isinstance(err.__cause__, OSError):
            raise err.__cause__ from None
        raise
    config = BuiltConfig(name, builder.info)
    for split, split_info in builder.info.splits.items():
        shards = sorted(raw.glob(f"*-{split}.parquet")) + sorted(raw.glob(f"*-{split}-[0-9]*-of-[0-9]*.parquet"))
        if split_info.num_examples == 0:
            continue
        for i, shard in enumerate(shards):
            path = release_dir / name / f"{split}-{i:05d}-of-{len(shards):05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(shard, path)
            rows = pq.ParquetFile(path).metadata.num_rows
            config.files.setdefault(split, []).append(ReleaseFile(path.relative_to(release_dir).as_posix(), sha256_of(path), path.stat().st_size, rows))
    return config


def all_files(configs: list[BuiltConfig], release_dir: Path) -> list[ReleaseFile]:
    shards = [f for c in configs for files in c.files.values() for f in files]
    names = ["README.md", "croissant.json", CHART_FILE] + [n for n in (REPORT_FILE, PAIRS_FILE, CONFUSION_FILE) if (release_dir / n).exists()]
    extra = [ReleaseFile(n, sha256_of(release_dir / n), (release_dir / n).stat().st_size) for n in names]
    return sorted(shards + extra, key=lambda f: f.path)
