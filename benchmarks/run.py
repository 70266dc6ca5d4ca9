"""Benchmarks: `python -m benchmarks.run --articles N` measures validate and build against the floor
and the peer on the same generated data, the build of a tenth of it (memory from N/10 to N), the
repository's own one-article build, `agreement` of the built release and of the working tree, and Label Studio push, re-push and pull of 10,000 tasks
against a real server; prints one table and writes benchmarks/results-N.json (generated data and
scratch files go to --out).

Every step runs as its own process; wall time is measured around it and peak RSS comes from the
kernel's accounting of that process (wait4), so no step's memory hides another's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .generate import generate

HERE = Path(__file__).resolve().parent
STUDIO_TASKS = 10_000  # Label Studio is measured at this size: a push of 100,000 tasks alone takes many minutes
BIN = Path(sys.executable).parent


def measure_rss(command: list[str]) -> dict:
    """Wall seconds and peak RSS (MiB) of one process, from the kernel (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=HERE.parent)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed with {os.waitstatus_to_exitcode(status)}")
    return {"seconds": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "out": output.decode()}


def generate_apart(out: Path, articles: int) -> Path:
    """Generate in a process of its own. Linux keeps a process's peak RSS across exec, so every
    step started by a runner that grew while generating reported the runner's peak as its own
    (682 MiB for validate, build and the 1,000-article build alike at 10,000)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(generate, out, articles).result()


def input_bytes(corpus: Path) -> tuple[int, int]:
    return (sum(p.stat().st_size for p in (corpus / "corpus").glob("*.jsonl")),
            sum(p.stat().st_size for p in (corpus / "annotations").glob("*.json")))


def run(articles: int, out: Path, skip_peer: bool, skip_studio: bool = False) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    corpus = generate_apart(out / f"corpus-{articles}", articles)
    small = generate_apart(out / f"corpus-{articles // 10}", articles // 10)
    scratch = out / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    newscorpus = str(BIN / "newscorpus")
    python = sys.executable
    corpus_bytes, export_bytes = input_bytes(corpus)
    results = {"articles": articles, "tasks": articles, "corpus_mb": corpus_bytes / 1e6, "export_mb": export_bytes / 1e6}
    results["validate"] = measure_rss([newscorpus, "validate", "--root", str(corpus), "--format", "json"])
    results["build"] = measure_rss([newscorpus, "build", "--version", "0.0.1", "--root", str(corpus), "--out", str(scratch / "releases")])
    release = scratch / "releases" / "v0.0.1"
    # agreement of the release (the target: at most validate's time) and of the working tree (validate, then the measures)
    results["agreement"] = measure_rss([newscorpus, "agreement", "--release", str(release), "--format", "json", "--out", str(scratch / "agreement.json")])
    results["agreement_tree"] = measure_rss([newscorpus, "agreement", "--root", str(corpus), "--format", "json", "--out", str(scratch / "agreement-tree.json")])
    results["build_small"] = measure_rss([newscorpus, "build", "--version", "0.0.1", "--root", str(small), "--out", str(scratch / "releases-small")])
    results["build_seed"] = measure_rss([newscorpus, "build", "--version", "0.0.1", "--root", str(HERE.parent), "--out", str(scratch / "releases-seed")])
    results["floor"] = measure_rss([python, "-m", "benchmarks.floor", str(corpus), str(scratch / "floor")])
    if not skip_peer:
        results["peer"] = measure_rss([python, "-m", "benchmarks.peer", str(corpus), str(scratch / "peer")])
    results["load"] = json.loads(measure_rss([python, "-m", "benchmarks.load", str(scratch / "releases" / "v0.0.1")])["out"])
    if not skip_studio:
        tasks = corpus if articles <= STUDIO_TASKS else generate_apart(out / f"corpus-{STUDIO_TASKS}", STUDIO_TASKS)
        results["studio"] = {"tasks": min(articles, STUDIO_TASKS), **json.loads(measure_rss([python, "-m", "benchmarks.studio", str(tasks)])["out"])}
    for step in ("validate", "build", "agreement", "agreement_tree", "build_small", "build_seed", "floor", "peer"):
        results.get(step, {}).pop("out", None)
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def table(r: dict) -> str:
    floor = r["floor"]["seconds"]
    peer = r.get("peer", {}).get("seconds")
    n = r["articles"]
    rows = [("step", "wall s", "articles/s", "peak RSS MiB", "x floor", "x peer")]

    def row(name, step):
        s = r[step]["seconds"]
        rows.append((name, f"{s:.1f}", f"{n / s:,.0f}", f"{r[step]['peak_rss_mib']:.0f}", f"{s / floor:.2f}", f"{s / peer:.2f}" if peer else "-"))

    row("floor: pyarrow JSONL->Parquet + msgspec export decode", "floor")
    if peer:
        row("peer: LS converter JSON_MIN+CONLL2003 -> datasets Parquet", "peer")
    row("newscorpus validate (schema + semantic)", "validate")
    row("newscorpus build (validate+resolve+split+4 configs)", "build")
    if "agreement" in r:
        row("newscorpus agreement --release (the built release)", "agreement")
        row("newscorpus agreement (the working tree)", "agreement_tree")
    for name, step in (("studio push (all new)", "push"), ("studio push (nothing changed)", "push_unchanged"), ("studio pull", "pull")):
        if "studio" in r:
            s, tasks = r["studio"][step]["seconds"], r["studio"]["tasks"]
            rows.append((f"{name}, {tasks:,} tasks", f"{s:.1f}", f"{tasks / s:,.0f}", f"{r['studio'][step]['peak_rss_mib']:.0f}", "-", "-"))
    widths = [max(len(str(x[i])) for x in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(x, widths)) for x in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    small, big = r["build_small"]["peak_rss_mib"], r["build"]["peak_rss_mib"]
    lines += [
        "",
        f"inputs: {n:,} articles ({r['corpus_mb']:.0f} MB JSONL), {r['tasks']:,} tasks ({r['export_mb']:.0f} MB of exports)",
        f"validate: {n / r['validate']['seconds']:,.0f} articles/s and tasks/s",
        f"build peak RSS: {small:.0f} MiB at {n // 10:,} articles, {big:.0f} MiB at {n:,} (ratio {big / small:.2f}; target <= 1.2)",
        f"build of a {n // 10:,}-article corpus: {r['build_small']['seconds']:.1f} s; of the repository's one-article corpus: {r['build_seed']['seconds']:.2f} s (target < 4)",
        f"load_dataset to first batch: {r['load']['load_dataset_first_batch_s']:.2f} s; pyarrow.parquet.read_table: {r['load']['pyarrow_read_table_s']:.2f} s",
        f"targets: build <= 3x floor: {'met' if r['build']['seconds'] <= 3 * floor else 'NOT met'}; "
        f"build faster than peer: {('met' if r['build']['seconds'] < peer else 'NOT met') if peer else 'peer skipped'}; "
        f"validate <= 2x floor: {'met' if r['validate']['seconds'] <= 2 * floor else 'NOT met'}; "
        f"RSS ratio <= 1.2: {'met' if big / small <= 1.2 else 'NOT met'}; "
        f"one-article build < 4 s: {'met' if r['build_seed']['seconds'] < 4 else 'NOT met'}"
        + (f"; agreement --release <= validate: {'met' if r['agreement']['seconds'] <= r['validate']['seconds'] else 'NOT met'}" if "agreement" in r else ""),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--skip-peer", action="store_true", help="leave out Label Studio's converter (slow at 100k)")
    parser.add_argument("--skip-studio", action="store_true", help="leave out push, re-push and pull against a real Label Studio")
    args = parser.parse_args()
    results = run(args.articles, args.out, args.skip_peer, args.skip_studio)
    (HERE / f"results-{args.articles}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
