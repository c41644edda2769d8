"""The embedded engine: `jobs` threads on this machine, each driving one sandbox at a time.

It runs `task.grade_task` on every task, as a Dask worker would, with the command's own
`task.Grader` (its checks, its stages). Tasks are read and submitted as threads free up (at most
2 x `jobs` in flight), so a class's notebooks are never all in memory at once. Ctrl-C: the
run is cancelled (`task.cancel_run`: every sandbox is killed), queued tasks are dropped, and
the exception goes on to the command, which then writes no class-level file.
"""
from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TextIO

from .task import LOCAL_WORKER, GradeTask, Grader, TaskResult, cancel_run, grade_task, receive


class LocalEngine:
    """Grade on this machine with `jobs` sandboxes at once, with the command's `grader`.

    Args:
        jobs: notebooks graded at once.
        grader: the command's grader (its checks, stages, cgroups and sandbox mode).
    """

    name = "local"

    def __init__(self, jobs: int, grader: Grader):
        self.jobs, self.grader = jobs, grader

    def start(self, stream: TextIO) -> None:
        """Nothing to connect to: the command already proved the sandbox works here."""

    def run(self, tasks: Iterable[GradeTask], on_result: Callable[[TaskResult], None],
            run_id: str) -> None:
        """Grade every task; `on_result` gets each result once, as it finishes."""
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade")
        pending: set[Future] = set()
        queue = iter(tasks)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < 2 * self.jobs:
                    task = next(queue, None)
                    if task is None:
                        exhausted = True
                        break
                    pending.add(pool.submit(grade_task, task.to_wire(), self.grader))
                if not pending:
                    break
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    on_result(receive(future.result()))
        except BaseException:
            cancel_run(run_id)
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def workers(self) -> dict[str, int]:
        """Worker name -> threads (one entry: this machine)."""
        return {LOCAL_WORKER: self.jobs}

    def close(self) -> None:
        """Nothing to stop (the command closes its grader)."""
