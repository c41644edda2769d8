"""Every solution notebook and its student release keep the promises of docs/authoring.md.

Generic over ``solutions/<a>/<a>.ipynb``: a new assignment is tested by adding its notebook.
Budgets: a solution notebook must run in 20 s (failing here only past 2x = 40 s); the release
and mutation checks run cells in-process (courseware.execute), a fraction of a second each.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.registry import allowed_modules, forbidden_modules
from courseware import notebooks, verify
from courseware.execute import run_code_cells
from courseware.layout import Layout

LAYOUT = Layout()
ASSIGNMENTS = LAYOUT.assignments()
BUDGET_SECONDS = 20.0
TOTAL_BUDGET_SECONDS = 60.0  # all five solution notebooks together
MEASURED: dict[str, float] = {}  # assignment -> seconds, filled by the per-notebook test


def solution(a: str) -> nbformat.NotebookNode:
    return notebooks.read(LAYOUT.solution_notebook(a))


def release(a: str) -> nbformat.NotebookNode:
    path = LAYOUT.release_dir(a) / f"{a}.ipynb"
    assert path.is_file(), f"{path} is missing: run `make notebooks`"
    return notebooks.read(path)


def library_cells(a: str) -> dict[str, str]:
    """grade_id -> the solution notebook's generated solution cell text (the library's code)."""
    return {notebooks.nbgrader_meta(c)["grade_id"]: c.source for c in verify.solution_cells(solution(a))}


@pytest.mark.slow
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_solution_notebook_runs_top_to_bottom_within_budget(a, monkeypatch):
    """From its own folder, with no PYTHONPATH: it imports the generated solutions/<a>/backprop_lib/."""
    from nbclient import NotebookClient

    nb = solution(a)
    nb.cells.append(nbformat.v4.new_code_cell("import backprop_lib; print(backprop_lib.__file__)"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    start = time.perf_counter()
    NotebookClient(nb, timeout=2 * BUDGET_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(LAYOUT.solutions / a)}}).execute()
    seconds = time.perf_counter() - start
    print(f"{a}: solution notebook ran in {seconds:.1f} s (budget {BUDGET_SECONDS:.0f} s)")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert Path(nb.cells[-1].outputs[0].text.strip()) == LAYOUT.solutions / a / "backprop_lib" / "__init__.py"
    MEASURED[a] = seconds
    assert seconds < 2 * BUDGET_SECONDS, f"{a} took {seconds:.1f} s, over twice the {BUDGET_SECONDS:.0f} s budget"


@pytest.mark.slow
def test_all_solution_notebooks_together_within_budget():
    if set(MEASURED) != set(ASSIGNMENTS):
        pytest.skip("needs every per-notebook timing from this run")
    total = sum(MEASURED.values())
    print("solution notebooks: " + ", ".join(f"{a} {s:.1f} s" for a, s in MEASURED.items())
          + f"; total {total:.1f} s (budget {TOTAL_BUDGET_SECONDS:.0f} s)")
    assert total < 2 * TOTAL_BUDGET_SECONDS, f"{total:.1f} s, over twice the {TOTAL_BUDGET_SECONDS:.0f} s budget"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_is_valid_and_stubs_carry_their_task(a):
    nb = release(a)
    nbformat.validate(nb)
    stubs = [line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.split("\n")
             if "raise NotImplementedError(" in line]
    assert stubs, f"{a}: the release has no stub"
    assert "raise NotImplementedError()" not in stubs, f"{a}: a stub lost its TASK message"
    for stub in stubs:
        assert stub.startswith(f'raise NotImplementedError("{a} '), stub
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_runs_up_to_its_first_stub(a):
    result = run_code_cells(verify.code_sources(release(a)), a)
    assert not result.ok, f"{a}: the release ran to the end with stubs in it"
    error = result.error
    message = str(error)
    print(f"{a}: release stops at code {result.describe()[:160]}")
    assert isinstance(error, (NotImplementedError, AssertionError)), result.describe()
    assert f"{a} " in message and ("not implemented yet" in message or isinstance(error, NotImplementedError)), message


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_contains_no_solution_or_hidden_test_line(a):
    assert verify.leaked_lines(release(a), solution(a)) == []


def test_leak_scan_can_fail():
    sol = solution(ASSIGNMENTS[0])
    leaky = nbformat.from_dict(sol)  # the solution notebook itself leaks everything
    assert verify.leaked_lines(leaky, sol)


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_imports_only_allowed_modules(a):
    sources = [c.source for c in release(a).cells if c.cell_type == "code"]
    closure = verify.import_closure(sources, LAYOUT.library)
    assert closure <= set(allowed_modules(a)), f"{a} reaches {sorted(closure - set(allowed_modules(a)))}"
    assert not closure & set(forbidden_modules(a))


def test_import_closure_follows_library_imports():
    closure = verify.import_closure(["from backprop_lib.graph import Graph"], LAYOUT.library)
    assert {"graph", "gates"} <= closure


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_release_with_library_solutions_passes_every_public_check(a):
    result = run_code_cells(verify.code_sources(release(a), library_cells(a)), a)
    print(f"{a}: release with the library's solutions ran in {result.seconds:.2f} s")
    assert result.ok, result.describe() + "\n" + result.stdout[-2000:]
    assert "PASS" in result.stdout and "FAIL" not in result.stdout


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_wrong_solutions_fail_a_public_check_naming_the_function(a):
    cells = library_cells(a)
    survivors, tried = [], 0
    start = time.perf_counter()
    for grade_id, text in cells.items():
        for region, kind, candidates in verify.mutants(text):
            outcomes = []
            for mutated in candidates:
                tried += 1
                result = run_code_cells(verify.code_sources(release(a), {**cells, grade_id: mutated}), a)
                message = str(result.error)
                if (isinstance(result.error, AssertionError) and message.startswith("FAIL")
                        and region.top_name in message):
                    break
                outcomes.append(result.describe()[:160])
            else:
                survivors.append(f"{region.owner} ({kind}): " + " | ".join(outcomes))
    print(f"{a}: {tried} wrong solutions (mutated regions) run in {time.perf_counter() - start:.1f} s")
    assert tried > 0
    assert not survivors, "public checks miss these wrong solutions:\n  " + "\n  ".join(survivors)


# ------------------------------------------------------------------------------ nbgrader
@pytest.fixture(scope="module")
def autograde(tmp_path_factory):
    """Plain nbgrader in one temporary course: generate_assignment, then autograde the solution
    notebook submitted by "student1". Returns a function a -> ((score, max score), seconds)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    course = tmp_path_factory.mktemp("nbgrader-course")
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.ExecutePreprocessor.timeout = 120
    done: dict[str, tuple] = {}

    def run(a: str) -> tuple[tuple[float, float], float]:
        if a in done:
            return done[a]
        shutil.copytree(LAYOUT.solutions / a, course / "source" / a)
        (course / "submitted" / "student1" / a).mkdir(parents=True)
        shutil.copy(LAYOUT.solution_notebook(a), course / "submitted" / "student1" / a / f"{a}.ipynb")
        start = time.perf_counter()
        with pytest.MonkeyPatch.context() as mp:
            # nbgrader's gradebook runs `alembic` by name; the kernel must find backprop_lib
            mp.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
            mp.setenv("PYTHONPATH", str(LAYOUT.root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            api = NbGraderAPI(config=config)
            generated = api.generate_assignment(a, force=True, create=True)
            assert generated["success"], generated.get("error", "") + generated.get("log", "")
            graded = api.autograde(a, "student1", force=True, create=True)
            assert graded["success"], graded.get("error", "") + graded.get("log", "")
        with Gradebook(config.CourseDirectory.db_url) as gb:
            submission = gb.find_submission(a, "student1")
            done[a] = ((submission.code_score, submission.max_code_score), time.perf_counter() - start)
        return done[a]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_nbgrader_autograde_gives_the_solution_full_marks(a, autograde):
    score, seconds = autograde(a)
    points = sum(notebooks.nbgrader_meta(c).get("points", 0) for c in solution(a).cells
                 if c.cell_type == "code" and notebooks.nbgrader_meta(c).get("grade"))
    print(f"{a}: nbgrader generate_assignment + autograde in {seconds:.1f} s, score {score}")
    assert points > 0
    assert score == (points, points)
