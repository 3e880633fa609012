"""Hash files in worker processes, with a hard per-file time limit.

At most ``workers`` files are in flight, so every submitted file is being worked on; one that runs past
its deadline has its pool killed and replaced, ends as ``timed_out``, and the others in flight are sent
again. A crashed worker (a decoder segfault) ends its file as ``corrupt`` the same way.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from suraksha.signals.file_signals import FileSignals, HashOptions, HashState, hash_path

GRACE_S = 2.0


def _hash_one(path: str, options: HashOptions) -> FileSignals:
    try:
        return hash_path(Path(path), options)
    except OSError as exc:
        return FileSignals(
            path=path, size=0, state=HashState.UNSUPPORTED, error=f"cannot read the file: {exc}"
        )


def hash_files(paths: Iterable[Path], options: HashOptions, workers: int) -> Iterator[FileSignals]:
    """Yield the signals of every path, in completion order. ``workers=0`` hashes in this process (no
    hard time limit: for tests and debugging)."""
    if workers <= 0:
        for path in paths:
            yield _hash_one(str(path), options)
        return
    pending = iter(paths)
    deadline_s = options.limits.decode_timeout_s + GRACE_S
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    in_flight: dict[Future[FileSignals], tuple[str, float]] = {}
    retry: list[str] = []
    try:
        while True:
            while len(in_flight) < workers:
                if retry:
                    name = retry.pop()
                else:
                    next_path = next(pending, None)
                    if next_path is None:
                        break
                    name = str(next_path)
                in_flight[executor.submit(_hash_one, name, options)] = (name, time.monotonic())
            if not in_flight:
                return
            done, _ = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                name, _started = in_flight.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    yield FileSignals(
                        path=name,
                        size=_size(name),
                        state=HashState.CORRUPT,
                        error="the decoder crashed on this file (worker process died)",
                    )
            now = time.monotonic()
            late = [f for f, (_, started) in in_flight.items() if now - started > deadline_s]
            if late or broken:
                for future in late:
                    name, _ = in_flight.pop(future)
                    yield FileSignals(
                        path=name,
                        size=_size(name),
                        state=HashState.TIMED_OUT,
                        error=f"decoding took longer than {options.limits.decode_timeout_s:g} s "
                        "(setting media_decode_timeout_s); the worker was stopped",
                    )
                retry.extend(name for name, _ in in_flight.values())
                in_flight.clear()
                _kill(executor)
                executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    finally:
        _kill(executor)


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _kill(executor: ProcessPoolExecutor) -> None:
    processes = list(getattr(executor, "_processes", {}).values())
    for process in processes:
        if process.is_alive():
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
