"""Runs the reading stage sequentially, in threads or in processes, with bounded work in flight.

Results come back in submission order. Memory stays flat: at most ``max_in_flight`` chunks exist.

Why processes: reading is Python parsing (GIL-bound), so on 2 cores a process pool is measurably faster
than threads (bench/index_bench.py). Processes are forked (cheap: workers inherit the imported reader)
and only while this process has a single thread: forking a multi-threaded process (the GUI) can copy a
held lock, and spawn/forkserver re-import the host program's ``__main__``, which is fragile. So "auto"
falls back to threads when other threads are alive. A pool that breaks (a worker killed) is not fatal:
its chunks are re-read in this thread and the run goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from geotagger.indexing.reading import Job, ReadResult, read_many, worker_init

log = logging.getLogger(__name__)
POOL_KINDS = ("auto", "process", "thread")
CHUNK = 32


def default_workers() -> int:
    """One worker per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class ReadPool:
    """Feed jobs with ``add`` (yields results as they finish) and ``drain`` at the end.
    ``workers`` <= 1 reads in the calling thread (deterministic, for tests)."""

    def __init__(self, workers: int | None, kind: str = "auto") -> None:
        if kind not in POOL_KINDS:
            raise ValueError(f"pool kind must be one of {POOL_KINDS}")
        self.workers = default_workers() if workers is None else max(0, workers)
        self.kind = kind
        self.max_in_flight = 2 * self.workers + 2
        self._executor: Executor | None = None
        self._chunk: list[Job] = []
        self._in_flight: deque[tuple[Future[list[ReadResult]], list[Job]]] = deque()
        self._broken = False

    @property
    def sequential(self) -> bool:
        return self.workers <= 1 or self._broken

    def start(self) -> None:
        """Create the workers now (before a progress bar starts its thread, so fork stays possible)."""
        if self.sequential or self._executor is not None:
            return
        use_processes = self.kind == "process" or (self.kind == "auto" and _can_fork())
        if not use_processes:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="geotagger-read")
            return
        context = multiprocessing.get_context("fork" if _can_fork() else None)
        try:
            executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=worker_init)
            executor.submit(os.getpid).result()  # fork all workers now (fork context starts them all)
        except (OSError, BrokenProcessPool) as exc:
            log.warning("cannot start reader processes (%s); reading in threads", exc)
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="geotagger-read")
            return
        self._executor = executor

    def add(self, job: Job) -> Iterator[ReadResult]:
        """Queue one job; yields results that became available (blocks only when the pool is full)."""
        if self.sequential:
            yield from read_many([job])
            return
        self._chunk.append(job)
        if len(self._chunk) >= CHUNK:
            yield from self._submit()

    def _submit(self) -> Iterator[ReadResult]:
        chunk, self._chunk = self._chunk, []
        self.start()
        if self._executor is None:  # broken meanwhile
            yield from read_many(chunk)
            return
        self._in_flight.append((self._executor.submit(read_many, chunk), chunk))
        while self._in_flight and (len(self._in_flight) > self.max_in_flight or self._in_flight[0][0].done()):
            yield from self._take()

    def _take(self) -> Iterator[ReadResult]:
        future, chunk = self._in_flight.popleft()
        try:
            results = future.result()
        except BrokenProcessPool as exc:
            log.warning("a reader process died (%s); reading the rest in this process", exc)
            self._broken = True
            self._shutdown()
            results = read_many(chunk)
        yield from results

    def drain(self) -> Iterator[ReadResult]:
        """Everything still queued or running, in order. A small remainder with no pool started yet is
        read here rather than paying for worker start-up."""
        if self._chunk:
            if self._executor is None:
                chunk, self._chunk = self._chunk, []
                yield from read_many(chunk)
            else:
                yield from self._submit()
        while self._in_flight:
            yield from self._take()

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def close(self) -> None:
        """Stop: queued chunks are cancelled, a running chunk finishes (a few files at most)."""
        self._chunk = []
        self._shutdown()
        self._in_flight.clear()
