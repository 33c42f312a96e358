"""Runs the reading stage sequentially, in threads or in processes, with bounded work in flight.

Results come back in submission order. Memory stays flat: at most ``max_in_flight`` chunks exist.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from geotagger.indexing.reading import Job, ReadResult, read_many, worker_init

POOL_KINDS = ("auto", "process", "thread")
CHUNK = 32


def default_workers() -> int:
    """One worker per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _process_context() -> multiprocessing.context.BaseContext:
    """fork is cheapest (workers inherit the imported reader); with other threads alive (GUI, progress
    bar) forking can copy a held lock, so use a forkserver that preloads the reader instead."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["geotagger.indexing.reading", "geotagger.metadata.read"])
        return ctx
    return multiprocessing.get_context("spawn")


class ReadPool:
    """Feed jobs with ``add``; take finished results with ``ready`` (non-blocking unless full) and
    ``drain`` at the end. ``workers`` <= 1 reads in the calling thread (deterministic, for tests)."""

    def __init__(self, workers: int | None, kind: str = "auto") -> None:
        if kind not in POOL_KINDS:
            raise ValueError(f"pool kind must be one of {POOL_KINDS}")
        self.workers = default_workers() if workers is None else max(0, workers)
        self.kind = "process" if kind == "auto" else kind
        self.max_in_flight = 2 * self.workers + 2
        self._executor: Executor | None = None
        self._chunk: list[Job] = []
        self._in_flight: deque[Future[list[ReadResult]]] = deque()

    @property
    def sequential(self) -> bool:
        return self.workers <= 1

    def _start(self) -> Executor:
        if self._executor is None:
            if self.kind == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="geotagger-read")
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=_process_context(), initializer=worker_init
                )
        return self._executor

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
        self._in_flight.append(self._start().submit(read_many, chunk))
        while self._in_flight and (len(self._in_flight) > self.max_in_flight or self._in_flight[0].done()):
            yield from self._in_flight.popleft().result()

    def drain(self) -> Iterator[ReadResult]:
        """Everything still queued or running, in order. A small remainder with no pool started yet is
        read here rather than paying for process start-up."""
        if self._chunk:
            if self._executor is None:
                chunk, self._chunk = self._chunk, []
                yield from read_many(chunk)
            else:
                yield from self._submit()
        while self._in_flight:
            yield from self._in_flight.popleft().result()

    def close(self) -> None:
        """Stop: queued chunks are cancelled, a running chunk finishes (a few files at most)."""
        self._chunk = []
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._in_flight.clear()
