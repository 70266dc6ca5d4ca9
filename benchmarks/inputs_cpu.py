"""Where the CPU of a build's inputs pass goes: wall time, this process's CPU and the workers' CPU.

    python -m benchmarks.inputs_cpu CORPUS

The inputs pass (validate.check_inputs with the build's resolver and clustering) is the build's
longest stage. When the two CPU figures add up to about twice the wall time, both cores are busy
and moving work between processes cannot make it faster; only less work can.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from newscorpus.layout import Layout
from newscorpus.release.build import load_release_settings
from newscorpus.resolve import Resolver, ResolvedStore
from newscorpus.split import SplitSettings
from newscorpus.taxonomy import check_taxonomy
from newscorpus.validate import check_inputs
from newscorpus.workers import collect_less, pool_size, worker_pool

IMPORT_SECONDS = 3  # the workers import before the pass starts, so their imports are not in its wall time


def main() -> None:
    layout = Layout(Path(sys.argv[1]))
    collect_less()
    taxonomy, _ = check_taxonomy(layout)
    settings = SplitSettings.from_release_settings(load_release_settings(layout))
    with tempfile.TemporaryDirectory() as tmp, worker_pool(pool_size(layout.shards(), None), ("newscorpus.release.build",)) as pool:
        store = ResolvedStore(Path(tmp) / "resolved.sqlite")
        time.sleep(IMPORT_SECONDS)
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        check_inputs(layout, Resolver(store, taxonomy.topic_names), settings, pool)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        store.close()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"inputs pass: {wall:.1f} s wall; CPU {own:.1f} s in this process, {workers.ru_utime + workers.ru_stime:.1f} s in the workers (their imports included)")


if __name__ == "__main__":
    main()
