"""Build a release: run the builder for every config and lay out an immutable release folder.

Everything is written under a staging folder beside the target and renamed into place at the end,
so a build that fails or is killed never leaves a partial releases/vX.Y.Z. The card, manifest and
Croissant file are all generated from the files just written.
"""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import re
import shutil
import signal
import sqlite3
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import datasets.utils.logging
import orjson
import pyarrow.parquet as pq

from .. import progress
from ..annotators import Pseudonyms, load_or_create_key
from ..build import CONFIG_NAMES, BuildPlan, NewsCorpus
from ..corpus import iter_articles
from ..files import write_atomically
from ..layout import Layout
from ..problems import CommandError, InputError, Report
from ..resolve import Resolver, ResolvedStore
from ..settings import check_release_settings
from ..split import SPLITS, NearDuplicateIndex, SplitSettings
from ..taxonomy import Taxonomy, check_taxonomy
from ..validate import validate
from .card import label_panels, render_card
from .croissant import croissant_metadata
from .diff import changelog
from .label_chart import CHART_FILE, label_chart_png
from .manifest import ReleaseFile, read_manifest, releases_in, same_version_folders, sha256_of, tool_versions, version_key

STAGING = re.compile(r"^\.staging-v[\d.]+-(\d+)$")
# Unless --num-proc says otherwise, a corpus this small is built in one process: a spawned worker
# imports datasets and pyarrow again (about a second of CPU each), more than it saves.
POOL_MIN_ARTICLES = 1000


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


def start_worker(parent: int, progress_queue) -> None:
    """A pool worker of a build that is killed must not live on (an idle worker holds ~230 MB);
    a live one reports its progress to the parent."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    progress.report_to(progress_queue)


def partition_articles(layout: Layout, splits: dict[str, str], folder: Path) -> dict[str, Path]:
    """Each split's articles in corpus order, in a file of its own: every config then reads the corpus once."""
    paths = {name: folder / f"articles-{name}.jsonl" for name in SPLITS}
    handles = {name: path.open("wb") for name, path in paths.items()}
    try:
        for record in iter_articles(layout):
            handles[splits[record["id"]]].write(orjson.dumps(record) + b"\n")
            progress.advance()
    finally:
        for handle in handles.values():
            handle.close()
    return {name: path for name, path in paths.items() if path.stat().st_size}


def build_release(layout: Layout, version: str, out_dir: Path, history_dir: Path | None = None, num_proc: int | None = None) -> Path:
    """Build releases/vX.Y.Z. Earlier releases in `history_dir` (default `out_dir`) fix the splits.

    `num_proc` builds that many configs at once (None: two on a corpus of POOL_MIN_ARTICLES or
    more, else one); each config is still written by one process, so the bytes do not depend on it.
    """
    version_key(version)
    datasets.utils.logging.disable_progress_bar()
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"{out_dir} is not a folder: --out names the folder that holds the releases")
    refuse_existing(out_dir, version)
    settings = load_release_settings(layout)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with build_lock(out_dir, version):
            refuse_existing(out_dir, version)  # the build that held the lock may just have written it
            return write_release(layout, version, settings, out_dir, history_dir or out_dir, num_proc)
    except (OSError, sqlite3.OperationalError) as err:  # disk full, read-only folder, ...
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        reason = getattr(err, "strerror", None) or str(err)
        raise CommandError(f"cannot build the release in {out_dir}: {reason}{where}; nothing was written") from None


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


def write_release(layout: Layout, version: str, settings: dict, out_dir: Path, history_dir: Path, num_proc: int) -> Path:
    target = out_dir / f"v{version}"
    remove_abandoned_staging(out_dir)
    staging = out_dir / f".staging-v{version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        taxonomy, problems = check_taxonomy(layout)
        if taxonomy is None:
            raise InputError(Report(problems), "the release was not built: the taxonomy is invalid")
        store = ResolvedStore(staging / "resolved.sqlite")
        resolver = Resolver(store, taxonomy.topic_names)
        near_duplicates = NearDuplicateIndex(SplitSettings.from_release_settings(settings))
        report, taxonomy = validate(layout, on_annotations=resolver, on_article=near_duplicates)
        store.commit()
        store.close()
        if not report.valid:
            raise InputError(report, "the release was not built: the inputs are invalid")
        earlier = [v for v in releases_in(history_dir) if version_key(v) < version_key(version)]
        previous = earlier[-1] if earlier else None
        previous_splits = read_manifest(history_dir / f"v{previous}")["splits"] if previous else {}
        with progress.stage("assigning splits"):
            splits = near_duplicates.assign(previous_splits)
        with progress.stage("partitioning articles", total=len(splits)):
            split_files = partition_articles(layout, splits, staging)
        plan = BuildPlan.from_release_settings(settings, taxonomy, staging / "resolved.sqlite", split_files, Pseudonyms(load_or_create_key(layout)))
        release_dir = staging / "release"
        built, stats = [], Counter()
        with progress.stage("writing configs", total=len(CONFIG_NAMES) * len(splits)) as stage:
            if num_proc is None:
                num_proc = min(2, os.cpu_count() or 1) if len(splits) >= POOL_MIN_ARTICLES else 1
            results = build_configs(plan, staging, release_dir, num_proc, stage)
        for config, builder_stats in results:
            stats.update(builder_stats)
            if config.files:
                built.append(config)
        stats.update(resolver.counts)
        with progress.stage("writing card and manifest", unit=""):
            inputs = [{"path": layout.relative(p), "sha256": sha256_of(p)} for p in input_files(layout)]
            context = ReleaseContext(version, settings, taxonomy, built, stats, resolver, previous,
                                     changelog(history_dir / f"v{previous}", release_dir) if previous else None)
            write_atomically(release_dir / "croissant.json", orjson.dumps(croissant_metadata(context, release_dir), option=orjson.OPT_INDENT_2) + b"\n")
            panels = label_panels(context, release_dir)
            write_atomically(release_dir / CHART_FILE, label_chart_png(panels))
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
            write_atomically(release_dir / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        os.rename(release_dir, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    show_summary(built, report, progress.current())
    return target


def build_configs(plan: BuildPlan, staging: Path, release_dir: Path, num_proc: int, stage: progress.Stage) -> list[tuple[BuiltConfig, Counter]]:
    """Every config, `num_proc` at a time; each is still written by one process, so the bytes do not depend on it.

    Ctrl-C reaches the whole process group, but only this process should answer it: SIGINT is
    ignored while the workers are spawned, and an ignored signal stays ignored across exec, so
    they never see it. It is also blocked in this thread meanwhile: Linux keeps a blocked signal
    pending even when ignored, so a Ctrl-C in that moment is answered once the handler is back
    (unless the kernel hands it to another thread, pyarrow's, which drops it). On any
    interruption the workers are killed before the staging folder they write into is removed.
    """
    jobs = [(plan, name, staging, release_dir) for name in CONFIG_NAMES]
    if num_proc <= 1:
        return [build_config(*job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    answer_interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # the queue starts multiprocessing's resource tracker, a process too
        queue = context.SimpleQueue() if progress.showing() else None
        pool = ProcessPoolExecutor(num_proc, mp_context=context, initializer=start_worker, initargs=(os.getpid(), queue))
        futures = [pool.submit(build_config, *job) for job in jobs]  # spawns every worker, in this thread
    finally:
        signal.signal(signal.SIGINT, answer_interrupt)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        with progress.relayed(stage, queue):
            return [future.result() for future in futures]
    except BaseException:
        workers = list(pool._processes.values())  # the executor has no public way to stop running work
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.join()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


def build_config(plan: BuildPlan, name: str, staging: Path, release_dir: Path) -> tuple[BuiltConfig, Counter]:
    """Run the builder for one config and move its shards to Hub names; empty splits are left out."""
    datasets.utils.logging.disable_progress_bar()
    raw = staging / "raw" / name
    builder = NewsCorpus(plan=plan, config_name=name, cache_dir=str(staging / "cache"))
    builder.download_and_prepare(output_dir=str(raw), file_format="parquet", max_shard_size=plan.max_shard_bytes)
    progress.flush()
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
    return config, builder.stats


def all_files(configs: list[BuiltConfig], release_dir: Path) -> list[ReleaseFile]:
    shards = [f for c in configs for files in c.files.values() for f in files]
    extra = [ReleaseFile(n, sha256_of(release_dir / n), (release_dir / n).stat().st_size) for n in ("README.md", "croissant.json", CHART_FILE)]
    return sorted(shards + extra, key=lambda f: f.path)
