"""Executors schedule shard tasks: a local pool of spawned processes (GPUs round robin), or Ray.
They only schedule: the work of a shard is the same function, given to `run`, everywhere."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from synthgen.corpus.format import ShardRecord
from synthgen.errors import SynthgenError, WorkerError
from synthgen.faults import failpoint
from synthgen.processes import die_with_parent
from synthgen.render.plan import ShardTask

# A shard function is `fn(task, device, progress) -> ShardRecord`, where `device` is the GPU
# assigned to the worker (`"cuda:K"`, round robin) or None, and `progress(n)` reports n samples
# done. `LocalExecutor` runs it in this process (one worker) or in a pool of spawned processes.
Progress = Callable[[int], None]
ShardFn = Callable[[ShardTask, "str | None", Progress], ShardRecord]


class Executor(Protocol):
    """Runs `fn` for every task; yields each task's record as it completes."""

    def run(self, fn: ShardFn, tasks: Sequence[ShardTask], on_progress: Progress) -> Iterator[ShardRecord]: ...


def available_gpus() -> list[str]:
    """CUDA devices this machine has, as `cuda:K` names (empty without a GPU)."""
    if shutil.which("nvidia-smi") is None:
        return []  # no driver: do not pay for importing torch
    try:
        import torch
    except ImportError:
        return []
    return [f"cuda:{k}" for k in range(torch.cuda.device_count())]


class LocalExecutor:
    """Runs shard tasks in this process (`workers=1`) or in `workers` spawned processes."""

    def __init__(self, workers: int = 1, devices: Sequence[str] | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.devices = list(available_gpus() if devices is None else devices)

    def run(self, fn: ShardFn, tasks: Sequence[ShardTask], on_progress: Progress) -> Iterator[ShardRecord]:
        """Yield each task's record as it completes (in completion order)."""
        if not tasks:
            return
        if self.workers == 1:
            device = self.devices[0] if self.devices else None
            for task in tasks:
                yield fn(task, device, on_progress)
            return
        yield from self._run_pool(fn, tasks, on_progress)

    def _run_pool(self, fn: ShardFn, tasks: Sequence[ShardTask], on_progress: Progress) -> Iterator[ShardRecord]:
        # spawn, not fork: a forked child would inherit GL/CUDA state it must not share.
        context = mp.get_context("spawn")
        progress_queue = context.Queue()
        slots = context.Value("i", 0)
        pool = cf.ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(), progress_queue, slots, self.devices),
        )
        try:
            pending = {pool.submit(_run_task, fn, task) for task in tasks}
            failpoint("pool.start")
            while pending:
                done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                _drain(progress_queue, on_progress)
                for future in done:
                    yield _result(future)
            _drain(progress_queue, on_progress)
        except BaseException:
            # An error or Ctrl-C: stop the other workers now rather than after their shards.
            # (concurrent.futures has no public way to; its half-written shards are temporaries.)
            for process in list(getattr(pool, "_processes", {}).values()):
                if process.is_alive():
                    process.terminate()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            progress_queue.close()


def _result(future: cf.Future[ShardRecord]) -> ShardRecord:
    try:
        return future.result()
    except cf.process.BrokenProcessPool:
        raise WorkerError(
            "a render worker process died abruptly (killed, out of memory, or a crash in a native "
            "library); the shards committed so far are kept: run the same command again to resume"
        ) from None


def _drain(progress_queue: Any, on_progress: Progress) -> None:
    while True:
        try:
            on_progress(progress_queue.get_nowait())
        except queue.Empty:
            return


# Worker-process state, set once by the pool initializer.
_worker: dict[str, Any] = {}


def _init_worker(parent_pid: int, progress_queue: Any, slots: Any, devices: list[str]) -> None:
    die_with_parent(parent_pid)
    with slots.get_lock():
        slot = slots.value
        slots.value += 1
    _worker.update(queue=progress_queue, device=devices[slot % len(devices)] if devices else None)


def _run_task(fn: ShardFn, task: ShardTask) -> ShardRecord:
    progress = _batched(_worker["queue"].put)
    record = fn(task, _worker["device"], progress)
    progress.flush()
    return record


class _batched:
    """A progress callback that forwards counts a few times a second (and the rest when asked),
    so a queue between processes carries a few messages a second, not one per sample."""

    def __init__(self, send: Callable[[int], Any], interval: float = 0.25) -> None:
        self.send, self.interval = send, interval
        self.pending, self.last = 0, time.monotonic()

    def __call__(self, n: int) -> None:
        self.pending += n
        if time.monotonic() - self.last > self.interval:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.send(self.pending)
        self.pending, self.last = 0, time.monotonic()


class RayExecutor:
    """One Ray task per shard on a Ray cluster (`pip install 'synthgen[ray]'`).

    Tasks a worker dies in are retried (`max_retries`); a task asks for `gpus_per_task` GPUs
    (default: 1 when the cluster has GPUs), and Ray makes its GPU `cuda:0` inside the task.
    Progress from the tasks reaches the driver through a Ray queue.
    """

    def __init__(self, address: str | None = None, gpus_per_task: float | None = None, max_retries: int = 3) -> None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise SynthgenError("--executor ray needs Ray: pip install 'synthgen[ray]'") from None
        self.address = address
        self.gpus_per_task = gpus_per_task
        self.max_retries = max_retries

    def run(self, fn: ShardFn, tasks: Sequence[ShardTask], on_progress: Progress) -> Iterator[ShardRecord]:
        if not tasks:
            return
        import ray
        from ray.util.queue import Queue

        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, logging_level="warning")
        gpus = self.gpus_per_task
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        progress_queue = Queue()
        remote = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=self.max_retries)(_run_ray_task)
        pending = [remote.remote(fn, task, progress_queue, gpus > 0) for task in tasks]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=0.2)
                for n in progress_queue.get_nowait_batch(progress_queue.qsize()):
                    on_progress(n)
                for ref in done:
                    yield ray.get(ref)
            for n in progress_queue.get_nowait_batch(progress_queue.qsize()):
                on_progress(n)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            progress_queue.shutdown()


def _run_ray_task(fn: ShardFn, task: ShardTask, progress_queue: Any, use_gpu: bool) -> ShardRecord:
    """A shard on a Ray worker; Ray restricts the worker to its GPU, which is then `cuda:0`."""
    progress = _batched(progress_queue.put_nowait)
    record = fn(task, "cuda:0" if use_gpu else None, progress)
    progress.flush()
    return record
