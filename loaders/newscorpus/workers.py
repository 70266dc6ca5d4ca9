"""The processes a long command works in: this one, or a pool of spawned workers beside it.

A corpus of POOL_MIN_ARTICLES or more is checked and built on every core (two at most here):
one worker checks the articles while this process checks the annotations, then the workers
make the release's tables chunk by chunk. Below that, a spawned worker's imports (about a
second of CPU each) cost more than it saves, so everything runs here, in order.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from . import progress

POOL_MIN_ARTICLES = 1000


def collect_less() -> None:
    """The cyclic garbage collector, tuned for passes that allocate millions of small objects and
    keep many: what is imported so far is frozen out of its scans, and it runs every 50,000
    allocations instead of every 700. Called again once a command's libraries are imported: left
    unfrozen, datasets' and pandas' objects cost a 100k build 13 s of scans. Measured: validate of
    100,000 articles 50.7 s -> 41.5 s; the data has few reference cycles, and the collector still
    reclaims those."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def pool_size(shards: list[Path], num_proc: int | None) -> int:
    """`num_proc` if given; else two workers (or as many cores as there are, if fewer) for a corpus of
    POOL_MIN_ARTICLES lines or more, and none below."""
    if num_proc is not None:
        return num_proc
    return min(2, os.cpu_count() or 1) if progress.count_lines(shards, always=True) >= POOL_MIN_ARTICLES else 1


class InProcess:
    """The pool of a small command: every call made here, at once, in order."""

    @staticmethod
    def submit(function, *args) -> Future:
        future = Future()
        future.set_result(function(*args))
        return future

    @staticmethod
    def run(function, jobs: list[tuple], stage: progress.Stage | None = None) -> list:
        return [function(*job) for job in jobs]


class WorkerPool:
    """Spawned workers; results come back in the order of the jobs, whatever order they finish in."""

    def __init__(self, executor: ProcessPoolExecutor, queue):
        self.executor, self.queue = executor, queue

    def submit(self, function, *args) -> Future:
        return self.executor.submit(function, *args)

    def run(self, function, jobs: list[tuple], stage: progress.Stage | None = None) -> list:
        """The jobs' results; the workers' progress counts go to `stage` meanwhile."""
        futures = [self.executor.submit(function, *job) for job in jobs]
        with progress.relayed(stage, self.queue if stage is not None else None):
            return [future.result() for future in futures]


def start_worker(parent: int, progress_queue, modules: tuple[str, ...]) -> None:
    """A worker of a command that is killed must not live on (an idle worker holds ~230 MB);
    a live one imports the modules its jobs need, then reports its progress to the parent."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    for module in modules:
        importlib.import_module(module)
    collect_less()
    progress.report_to(progress_queue)


@contextmanager
def worker_pool(num_proc: int, modules: tuple[str, ...] = ()):
    """`num_proc` spawned workers (one: this process does the work), killed on any interruption;
    each imports `modules` as it starts, before this process needs it.

    Ctrl-C reaches the whole process group, but only this process should answer it: SIGINT is
    ignored while the workers are spawned, and an ignored signal stays ignored across exec, so
    they never see it. It is also blocked in this thread meanwhile: Linux keeps a blocked signal
    pending even when ignored, so a Ctrl-C in that moment is answered once the handler is back
    (unless the kernel hands it to another thread, pyarrow's, which drops it). On any
    interruption the workers are killed before the staging folder they write into is removed.
    """
    if num_proc <= 1:
        yield InProcess()
        return
    context = multiprocessing.get_context("spawn")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    answer_interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # the queue starts multiprocessing's resource tracker, a process too
        queue = context.SimpleQueue() if progress.showing() else None
        executor = ProcessPoolExecutor(num_proc, mp_context=context, initializer=start_worker, initargs=(os.getpid(), queue, modules))
        for _ in range(num_proc):  # each submit to a pool with no idle worker spawns one: all of them, in this thread
            executor.submit(os.getpid)
    finally:
        signal.signal(signal.SIGINT, answer_interrupt)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield WorkerPool(executor, queue)
    except BaseException:
        workers = list(executor._processes.values())  # the executor has no public way to stop running work
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.join()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
