"""The parse process pool's worker set-up. The shell (or a bench) creates the pool."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor


def exit_with_parent(parent: int) -> None:
    """A worker of a killed service would wait for jobs forever: leave when the parent goes."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def make_parse_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for parsing. spawn, not fork: forking a process that already runs
    threads can copy locks held by them."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )
