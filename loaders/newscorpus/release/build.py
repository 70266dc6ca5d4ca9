"""Build a release: run the builder for every config and lay out an immutable release folder.

Everything is written under a staging folder beside the target and renamed into place at the end,
so a build that fails or is killed never leaves a partial releases/vX.Y.Z. The card, manifest and
Croissant file are all generated from the files just written.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import shutil
import signal
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import datasets.utils.logging
import orjson
import pyarrow.parquet as pq

from .. import progress
from ..build import CONFIG_NAMES, BuildPlan, NewsCorpus
from ..corpus import iter_articles
from ..files import read_checked_json, write_atomically
from ..layout import Layout
from ..problems import CommandError, InputError, Report
from ..resolve import Resolver, ResolvedStore
from ..settings import release_defaults
from ..split import SPLITS, NearDuplicateIndex, SplitSettings
from ..taxonomy import Taxonomy, check_taxonomy
from ..validate import validate
from .card import label_panels, render_card
from .croissant import croissant_metadata
from .diff import changelog
from .label_chart import CHART_FILE, label_chart_png
from .manifest import ReleaseFile, read_manifest, releases_in, sha256_of, tool_versions, version_key

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
    if not layout.release_settings_path.exists():
        return release_defaults()
    data, problems = read_checked_json(layout, layout.release_settings_path, "release.schema.json", "config-error")
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
    fixed = [layout.taxonomy_path, layout.release_settings_path]
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
    history_dir = history_dir or out_dir
    target = out_dir / f"v{version}"
    if target.exists():
        raise CommandError(f"{target} exists and releases are immutable; choose a new version")
    settings = load_release_settings(layout)
    out_dir.mkdir(parents=True, exist_ok=True)
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
        plan = BuildPlan.from_release_settings(settings, taxonomy, staging / "resolved.sqlite", split_files)
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
    """Every config, `num_proc` at a time; each is still written by one process, so the bytes do not depend on it."""
    jobs = [(plan, name, staging, release_dir) for name in CONFIG_NAMES]
    if num_proc <= 1:
        return [build_config(*job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    queue = context.SimpleQueue() if progress.showing() else None
    with ProcessPoolExecutor(num_proc, mp_context=context, initializer=start_worker, initargs=(os.getpid(), queue)) as pool, progress.relayed(stage, queue):
        return list(pool.map(build_config, *zip(*jobs)))


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
