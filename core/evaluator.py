"""tfparse's evaluation of a directory for one workspace and var files: here, or in worker processes.

tfparse's Go code is most of the time a large module takes (about 1.7 s per environment at 5,000 resources,
bench/bench_scale.py) and it runs in one Go thread, so environments are evaluated side by side in worker
processes (a Go runtime each: two evaluations in one process share its heap and are slower). A worker does nothing
else: it answers ``(directory, workspace, var files)`` with tfparse's result. Everything else (reading the source,
the model) happens once, in the calling process.

    pool = Pool(2)
    later = pool.submit(directory, "staging", ["staging.tfvars"])  # starts now
    parsed = later()  # tfparse's result, or its ParseError, or WorkerDied if the worker died
    pool.close()

``python -m core.evaluator`` is a worker: length-prefixed pickles in on stdin, out on stdout.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKER = [sys.executable, "-m", "core.evaluator"]
# A worker's Go runtime: collect when the heap is 17x what is live, or before it passes the limit. Go's default,
# GOGC=100, collects all the time (about 30% of tfparse's time at 5,000 resources in one run). A run of one part
# of a large module (core/partition.py) holds little, so it is collected rarely; one run of a whole module of
# 5,000 resources is held near the limit, about as fast as with 320MiB (below 200MiB it slows). Two workers and
# the caller stay under 1 GiB together (bench/bench_scale.py). A GOGC or GOMEMLIMIT of the caller's own is kept.
WORKER_GO_ENV = {"GOGC": "1600", "GOMEMLIMIT": "256MiB"}

Later = Callable[[], dict]


class WorkerDied(RuntimeError):
    """A worker process ended without an answer; ``tail`` is the last line it wrote to stderr."""

    def __init__(self, tail: str):
        super().__init__(f"a worker process died: {tail}")
        self.tail = tail


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """tfparse's Go code logs INFO lines (e.g. 'unknown block type' for `check`) straight to fd 2;
    keep them out of the gate's output but pass anything else through."""
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines():
                if " level=INFO " not in line:
                    sys.stderr.write(line + "\n")


def here(directory: Path, workspace: str, vars_paths: list[str]) -> dict:
    """tfparse's result in this process (raises tfparse.ParseError)."""
    import tfparse

    with quiet_stderr():
        return tfparse.load_from_path(str(directory), stop_on_hcl_error=True, workspace_name=workspace,
                                      vars_paths=vars_paths)


def later_here(directory: Path, workspace: str, vars_paths: list[str]) -> Later:
    """``here``, when asked for (so evaluation in one process happens in the caller's order)."""
    return lambda: here(directory, workspace, vars_paths)


def _send(stream, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _receive(stream) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack(">Q", header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - between this module's own processes


class Pool:
    """``jobs`` worker processes, started at once; a request goes to the first that is free."""

    def __init__(self, jobs: int):
        env = dict(os.environ) if {"GOGC", "GOMEMLIMIT"} & set(os.environ) else {**os.environ, **WORKER_GO_ENV}
        self._requests: queue.Queue = queue.Queue()
        self._workers = []
        try:
            for _ in range(jobs):
                errors = tempfile.TemporaryFile()  # (a file, not a pipe: nothing blocks on what a worker logs)
                proc = subprocess.Popen(WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                        cwd=ROOT, env=env)
                thread = threading.Thread(target=self._serve, args=(proc, errors), daemon=True)
                thread.start()
                self._workers.append((proc, thread))
        except BaseException:  # (a worker that cannot start: those started are stopped, not left behind)
            self.__exit__(RuntimeError, None, None)
            raise

    def submit(self, directory: Path, workspace: str, vars_paths: list[str]) -> Later:
        future: Future = Future()
        self._requests.put(((str(directory), workspace, list(vars_paths)), future))
        return future.result

    def close(self) -> None:
        for _ in self._workers:
            self._requests.put(None)
        for _proc, thread in self._workers:
            thread.join()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is not None:  # nothing waits for the answers: stop the workers now
            for proc, _thread in self._workers:
                proc.kill()
        self.close()

    def _serve(self, proc: subprocess.Popen, errors) -> None:
        """One worker's requests, one at a time; if it dies, this and every later request say so."""
        dead: WorkerDied | None = None
        while (item := self._requests.get()) is not None:
            request, future = item
            if dead is None:
                try:
                    _send(proc.stdin, request)
                    kind, value = _receive(proc.stdout)
                except (OSError, EOFError, pickle.UnpicklingError):
                    proc.kill()
                    proc.wait()
                    errors.seek(0)
                    tail = errors.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                    dead = WorkerDied(tail[0])
            if dead is not None:
                future.set_exception(dead)
            elif kind == "ok":
                future.set_result(value)
            else:
                import tfparse

                future.set_exception(tfparse.ParseError(value))
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait()
        proc.stdout.close()
        if dead is None:  # what tfparse logged besides its INFO lines reaches the caller's stderr, as in-process
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace"))
        errors.close()


def _worker() -> None:
    """A worker process: requests until its input ends. Nothing it prints reaches the results."""
    import gc

    import tfparse

    gc.disable()  # (what it allocates is freed by reference counting; it only lives for this run)
    requests, results = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while True:
        try:
            directory, workspace, vars_paths = _receive(requests)
        except EOFError:
            return
        try:
            reply = ("ok", here(Path(directory), workspace, vars_paths))
        except tfparse.ParseError as err:
            reply = ("error", str(err))
        _send(results, reply)


if __name__ == "__main__":
    _worker()
