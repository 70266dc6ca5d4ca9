"""Progress of long commands on stderr: the stage, how far it is, and the time left.

A curator waiting minutes for a build must see that it moves, but CI logs and pipes must stay as
they were: the display is on only when stderr is a terminal and `--quiet` was not given. Every
stage is timed either way, so a build can end with its seconds per stage. Stages call the
module-level `stage()`; pool workers of a build report through a queue to the process that shows.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

FLUSH_SECONDS = 0.2


class Stage:
    """One stage's counter. `work` is what the time left is estimated from (bytes, say) when it
    differs from the count of items shown."""

    def __init__(self, bars=None, task=None):
        self.bars, self.task, self.count, self.work = bars, task, 0, 0

    def advance(self, count: int = 1, work: int | None = None) -> None:
        self.count += count
        self.work += count if work is None else work
        if self.bars is not None:
            self.bars.update(self.task, completed=self.work, count=self.count)


class Display:
    """The rich progress bars of one command, or nothing but the timings."""

    def __init__(self, show: bool):
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.bars = None
        self.console = None
        self.tables: list = []
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.console = Console(stderr=True)
            self.bars = Progress(
                SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(),
                TextColumn("{task.fields[count]:>10,} {task.fields[unit]:<8}"), TimeElapsedColumn(), TextColumn("elapsed"), TimeRemainingColumn(), TextColumn("left"),
                console=self.console, redirect_stdout=False, redirect_stderr=False,
            )

    @contextmanager
    def stage(self, name: str, total: float | None = None, unit: str = "articles") -> Iterator[Stage]:
        started = time.perf_counter()
        task = self.bars.add_task(name, total=total, count=0, unit=unit) if self.bars is not None else None
        global _active
        stage, outer = Stage(self.bars, task), _active
        _active = stage
        try:
            yield stage
        finally:
            _active = outer
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            if self.bars is not None:  # a finished stage shows a full bar, whatever its estimate was
                self.bars.update(task, total=max(stage.work, 1), completed=max(stage.work, 1))

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __enter__(self) -> "Display":
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bars is not None:
            self.bars.stop()
            for table in self.tables:
                self.console.print(table)

    def table(self, title: str, columns: list[str], rows: list[list]) -> None:
        """A summary table, printed under the bars when they stop (and only where they are shown)."""
        if self.console is None:
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for i, column in enumerate(columns):
            table.add_column(column, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*(f"{cell:,}" if isinstance(cell, int) else f"{cell:.1f}" if isinstance(cell, float) else str(cell) for cell in row))
        self.tables.append(table)


class QueueStage:
    """A pool worker's stage: counts go to the showing process in a few messages a second."""

    def __init__(self, queue):
        self.queue, self.pending, self.sent = queue, 0, time.monotonic()

    def advance(self, count: int = 1, work: int | None = None) -> None:
        self.pending += count if work is None else work
        if time.monotonic() - self.sent >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.queue.put(self.pending)
            self.pending, self.sent = 0, time.monotonic()


_display = Display(show=False)
_active: Stage | QueueStage | None = None  # what `advance` counts on: the innermost open stage, or a worker's queue


def show(quiet: bool = False) -> Display:
    """The display of this command: bars when stderr is a terminal and not quiet."""
    global _display
    _display = Display(show=not quiet and sys.stderr.isatty())
    return _display


def current() -> Display:
    return _display


def stage(name: str, total: float | None = None, unit: str = "articles"):
    return _display.stage(name, total, unit)


def tracked(items: Iterable, name: str, total: float | None = None, unit: str = "articles") -> Iterator:
    """The items, counted in a stage of their own as they are taken."""
    with stage(name, total, unit) as counter:
        for item in items:
            counter.advance()
            yield item


def advance(count: int = 1, work: int | None = None) -> None:
    """Count work done in the current stage (in a pool worker: the stage of the process that shows)."""
    if _active is not None:
        _active.advance(count, work)


def uncounted(function, *args):
    """`function(*args)` with its counts going nowhere: a worker's pass that no stage shows."""
    global _active
    active, _active = _active, None
    try:
        return function(*args)
    finally:
        _active = active


def showing() -> bool:
    return _display.bars is not None


def count_lines(paths: Iterable, always: bool = False) -> int | None:
    """The number of lines in the files: a total for the bar, counted only when the bar is shown (or `always`)."""
    if not showing() and not always:
        return None
    lines = 0
    for path in paths:
        if not path.is_file():  # a FIFO or a device is reported by the stage that reads, not read here
            continue
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 24):
                lines += chunk.count(b"\n")
    return lines


def total_bytes(paths: Iterable) -> int | None:
    """The size of the files: a total for a bar advanced by bytes."""
    return sum(path.stat().st_size for path in paths if path.is_file()) if showing() else None


def report_to(queue) -> None:
    """In a pool worker: `advance` sends its counts to `queue` (None: counts go nowhere)."""
    global _active
    _active = QueueStage(queue) if queue is not None else None


def flush() -> None:
    """In a pool worker, before its result is returned: send what is still counted."""
    if isinstance(_active, QueueStage):
        _active.flush()


@contextmanager
def relayed(stage_: Stage, queue) -> Iterator[None]:
    """Forward the counts pool workers put on `queue` to `stage_` until the block ends."""
    if queue is None:
        yield
        return

    def forward():
        while (item := queue.get()) is not None:
            stage_.advance(item)

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield
    finally:
        queue.put(None)
        thread.join(timeout=5)
