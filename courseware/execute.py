"""Run a notebook's code cells in this process (fast; for the release tests and mutation runs).

A kernel costs a second or two to start; the release tests run a notebook dozens of times (once
per mutated solution region), so they execute the cells with `exec` in a fresh namespace instead,
after IPython's own input transformation (so ``%magics`` parse; they are then ignored), with
matplotlib's non-interactive backend. Solution notebooks are still run with a real kernel
(nbclient) by tests/courseware/test_solution_notebooks.py.
"""
from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass


@dataclass
class RunResult:
    """What happened: the code cell that raised (index into the list run), its exception, stdout."""

    failed_cell: int | None
    error: BaseException | None
    stdout: str
    seconds: float

    @property
    def ok(self) -> bool:
        """True if every cell ran."""
        return self.error is None

    def describe(self) -> str:
        """``cell 7: AssertionError: FAIL ...`` or ``ok``."""
        if self.error is None:
            return "ok"
        return f"cell {self.failed_cell}: {type(self.error).__name__}: {self.error}"


class _NoIPython:
    """Stands in for `get_ipython()`: line and cell magics do nothing outside a kernel."""

    def run_line_magic(self, *args, **kwargs) -> None:
        return None

    def run_cell_magic(self, *args, **kwargs) -> None:
        return None

    def system(self, *args, **kwargs) -> None:
        return None


def run_code_cells(sources: list[str], name: str = "notebook") -> RunResult:
    """Execute `sources` in order in one fresh namespace; stop at the first exception.

    Args:
        sources: the code cells' source texts.
        name: used in tracebacks' file names (``<name cell 3>``).

    Returns:
        A RunResult; ``failed_cell`` indexes `sources`.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from IPython.core.inputtransformer2 import TransformerManager
    from IPython.display import display

    transformer = TransformerManager()
    namespace: dict = {"__name__": "__main__", "get_ipython": _NoIPython, "display": display}
    out = io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out):
            for index, source in enumerate(sources):
                try:
                    code = compile(transformer.transform_cell(source), f"<{name} cell {index}>", "exec")
                    exec(code, namespace)  # noqa: S102 - running our own notebooks is the point
                except Exception as err:  # noqa: BLE001 - reported to the caller
                    return RunResult(index, err, out.getvalue(), time.perf_counter() - start)
                finally:
                    plt.close("all")
    finally:
        namespace.clear()
    return RunResult(None, None, out.getvalue(), time.perf_counter() - start)
