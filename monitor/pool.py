"""The parse process pool's worker set-up. The shell (or a bench) creates the pool."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor

from net.children import exit_with_parent


def init_worker(parent: int) -> None:
    """Set a worker up: Ctrl-C reaches the whole process group, but shutdown is the
    parent's job (a worker that took it would print a KeyboardInterrupt traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)


def _warm() -> None:
    import monitor.normalise  # noqa: F401 - feedparser's import is the slow part of a start


async def warm_up(pool: ProcessPoolExecutor, workers: int) -> None:
    """Start every worker and import the parser now, not during the first polls."""
    loop = asyncio.get_running_loop()
    # Each submit here spawns a worker. A worker inherits the signal mask across spawn's
    # exec, so with SIGINT blocked it cannot be interrupted even before its initializer.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        jobs = [loop.run_in_executor(pool, _warm) for _ in range(workers)]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    await asyncio.gather(*jobs)


def make_parse_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for parsing. spawn, not fork: forking a process that already runs
    threads can copy locks held by them."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(os.getpid(),),
    )
