"""The TA grades the written answers in nbgrader's formgrader after our autograder ran: every
graded submission is listed by nbgrader's own formgrader API with our scores, its notebook in
`OUT/autograded/` holds the student's answers, the source's test cells and no outputs."""
from __future__ import annotations

import copy
import io
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.results import read_grades_csv
from autograder.pipeline.run import grade_class

ROOT = Path(__file__).resolve().parents[3]
A = "a1_gates"
ANSWER = "MY OWN WORDS s2: the copy gate sums what both branches send back."
EDITED_TEST = "assert True  # the student edited the public test so that it always passes"
HIDDEN_ANSWER = "s3 hid this answer from the TA by clearing its grade flag"
SCRIPTED_ANSWER = "Sum them. <img src=x onerror=\"alert('owned')\"> [see](javascript:alert(1))"


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("formgrader")
    solutions = root / "solutions"
    (solutions / A).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", solutions / A / f"{A}.ipynb")
    submitted = root / "submitted"
    # s1 submits the solution notebook as it is
    _write(submitted / "s1" / A / f"{A}.ipynb", nbformat.read(solutions / A / f"{A}.ipynb", 4))
    # s2: the student release with a written answer, an edited test cell and outputs
    release = nbformat.read(ROOT / "notebooks" / A / f"{A}.ipynb", 4)
    s2 = copy.deepcopy(release)
    _cell(s2, "written_fanout").source = ANSWER
    _cell(s2, "written_accumulate").source = SCRIPTED_ANSWER
    _cell(s2, "test_add").source = EDITED_TEST
    _cell(s2, "test_add").outputs = [nbformat.v4.new_output("stream", text="all checks passed\n")]
    _cell(s2, "test_add").execution_count = 3
    _write(submitted / "s2" / A / f"{A}.ipynb", s2)
    # s3: the release with metadata tampered with: a written answer no longer a grade cell,
    # a test cell unlocked
    s3 = copy.deepcopy(release)
    _cell(s3, "written_accumulate").source = HIDDEN_ANSWER
    _cell(s3, "written_accumulate").metadata.nbgrader["grade"] = False
    _cell(s3, "test_max").metadata.nbgrader.update(locked=False, solution=True, points=100)
    _cell(s3, "test_max").source = EDITED_TEST
    # ... a test cell without its nbgrader metadata, and three cells deleted
    stripped = _cell(s3, "test_multiply")
    del stripped.metadata["nbgrader"]
    stripped.source = EDITED_TEST
    s3.cells = [c for c in s3.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                not in ("sol_add", "test_add", "written_fanout")]
    _write(submitted / "s3" / A / f"{A}.ipynb", s3)
    # s4: not a notebook; s5: nothing
    (submitted / "s4" / A).mkdir(parents=True)
    (submitted / "s4" / A / f"{A}.ipynb").write_text("{ this is not json")
    (submitted / "s5").mkdir()

    out = root / "out"
    stream = io.StringIO()
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{path}"  # nbgrader runs alembic
    try:
        summary = grade_class(submitted, out, solutions=solutions, jobs=2, progress=False,
                              stream=stream)
    finally:
        os.environ["PATH"] = path
    assert summary.output_errors == [], stream.getvalue()
    assert "formgrader" in summary.output_seconds
    assert "formgrader" not in stream.getvalue()  # no notebook it could not show
    grades = {r["student_id"]: r for r in read_grades_csv(out / "grades.csv")}
    return out, grades, submitted, solutions


@pytest.fixture(scope="module")
def api(graded):
    """nbgrader's own formgrader API, configured by the OUT/nbgrader_config.py we wrote."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    out = graded[0]
    config = PyFileConfigLoader("nbgrader_config.py", path=str(out)).load_config()
    coursedir = CourseDirectory(config=config)
    assert Path(coursedir.root) == out
    return NbGraderAPI(coursedir, config=config)


def _autograded(out: Path, sid: str) -> Path:
    return out / "autograded" / sid / A / f"{A}.ipynb"


@pytest.mark.slow
def test_formgrader_lists_every_submission_with_our_scores(graded, api):
    out, grades, _, _ = graded
    assert {sid: g["status"] for sid, g in grades.items()} == {
        "s1": "ok", "s2": "ok", "s3": "ok", "s4": "error", "s5": "missing"}
    assert float(grades["s1"]["auto_score"]) == float(grades["s1"]["auto_max_score"]) == 12.0
    submissions = {s["student"]: s for s in api.get_submissions(A)}
    # s5 submitted nothing: nbgrader lists no submission for it (a 0, like ours); s4's file is
    # unreadable: its submission (0 points) is in the gradebook, with no notebook to open
    assert set(submissions) == {"s1", "s2", "s3", "s4"}
    assert submissions["s4"]["score"] == 0.0
    assert not api.get_submission(A, "s4")["autograded"]
    for sid, s in submissions.items():
        if sid == "s4":
            continue
        assert s["autograded"] and s["submitted"], s
        assert s["code_score"] == pytest.approx(float(grades[sid]["auto_score"]))
        assert s["max_code_score"] == pytest.approx(float(grades[sid]["auto_max_score"]))
        assert s["needs_manual_grade"]
        assert s["max_written_score"] == 5.0
        one = api.get_submission(A, sid)
        assert one["autograded"] and one["needs_manual_grade"]
        assert one["score"] == pytest.approx(float(grades[sid]["auto_score"]))
    # manual grading lists the notebooks the TA can open: not s4's unreadable file
    notebooks = {n["student"]: n for n in api.get_notebook_submissions(A, A)}
    assert set(notebooks) == {"s1", "s2", "s3"}
    assert all(n["needs_manual_grade"] for n in notebooks.values())
    assert not _autograded(out, "s4").exists() and not _autograded(out, "s5").exists()
    assert not (out / "autograded" / "s4").exists()


@pytest.mark.slow
def test_autograded_notebook_has_answers_source_tests_and_no_outputs(graded):
    out, _, _, solutions = graded
    source = nbformat.read(solutions / A / f"{A}.ipynb", 4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert len(tests) == 10
    for sid in ("s1", "s2", "s3"):
        nb = nbformat.read(_autograded(out, sid), 4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (sid, cell.source[:40])
        ours = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id")}
        for grade_id, text in tests.items():  # the source's test cells, not the student's
            if (sid, grade_id) == ("s3", "test_add"):  # deleted: added back, with nbgrader's note
                assert ours[grade_id].source.startswith("# This cell (id:test_add) was missing")
                assert ours[grade_id].source.endswith(text)
            else:
                assert ours[grade_id].source == text, (sid, grade_id)
            assert ours[grade_id].metadata["nbgrader"]["locked"]
            assert not ours[grade_id].metadata["nbgrader"]["solution"]
        for name, points in (("written_fanout", 3.0), ("written_accumulate", 2.0)):
            meta = ours[name].metadata["nbgrader"]
            assert meta["grade"] and meta["solution"] and meta["points"] == points, (sid, meta)
    s2 = nbformat.read(_autograded(out, "s2"), 4)
    assert _cell(s2, "written_fanout").source == ANSWER
    assert EDITED_TEST not in _autograded(out, "s2").read_text()
    assert "all checks passed" not in _autograded(out, "s2").read_text()
    assert s2.metadata["kernelspec"] == source.metadata["kernelspec"]
    s1 = nbformat.read(_autograded(out, "s1"), 4)
    assert "BEGIN SOLUTION" in _cell(s1, "written_fanout").source  # the submitted text, as is
    # s3's hidden answer is a grade cell again, for the TA to grade; its test cells are restored
    # and the written answer it deleted is back (empty) for the TA to give it 0
    s3 = nbformat.read(_autograded(out, "s3"), 4)
    assert _cell(s3, "written_accumulate").source == HIDDEN_ANSWER
    assert "was missing from the submission" in _cell(s3, "written_fanout").source
    order = [c.metadata["nbgrader"]["grade_id"] for c in s3.cells if "nbgrader" in c.metadata]
    assert order.index("imports") < order.index("test_add") < order.index("sol_multiply")
    assert EDITED_TEST not in _autograded(out, "s3").read_text()
    # atomic writes leave no temporary files
    leftovers = [p for p in (out / "autograded").rglob("*") if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.slow
def test_nbgrader_config_points_at_out(graded):
    out, _, submitted, solutions = graded
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(out)).load_config()
    course = config.CourseDirectory
    assert course.root == str(out)
    assert course.db_url == f"sqlite:///{out / 'gradebook.db'}"
    assert course.source_directory == str(solutions.resolve())
    # formgrader must not offer to autograde (run student code outside the sandbox)
    assert not (out / course.submitted_directory).exists()
    assert str(submitted) not in course.submitted_directory


@pytest.mark.slow
def test_regrading_keeps_manual_grades_and_drops_stale_notebooks(graded, tmp_path):
    """Grading again into the same OUT: the TA's manual grade stays, a notebook that became
    unreadable loses its autograded copy."""
    from nbgrader.api import Gradebook

    from autograder.outputs.formgrader import write_autograded
    from autograder.pipeline.results import read_result

    out, _, submitted, solutions = graded
    copy_out = tmp_path / "out"
    shutil.copytree(out, copy_out)
    with Gradebook(f"sqlite:///{copy_out / 'gradebook.db'}") as gb:
        gb.find_grade("written_fanout", A, A, "s2").manual_score = 2.5
        gb.db.commit()
    sub = tmp_path / "submitted"
    shutil.copytree(submitted, sub)
    (sub / "s1" / A / f"{A}.ipynb").write_text("[]")
    results = [read_result(copy_out / "results" / sid / f"{A}.json") for sid in ("s1", "s2")]
    assert write_autograded(results, sub, copy_out, solutions) == []
    assert not _autograded(copy_out, "s1").exists()
    assert _autograded(copy_out, "s2").exists()
    with Gradebook(f"sqlite:///{copy_out / 'gradebook.db'}") as gb:
        assert gb.find_grade("written_fanout", A, A, "s2").manual_score == 2.5


@pytest.mark.slow
def test_formgrader_page_runs_no_student_script(graded):
    """formgrader renders markdown with raw HTML and javascript: links, in the TA's Jupyter
    origin: an answer that holds either is shown as plain text, the others render as usual."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    out = graded[0]
    config = Config()
    config.HTMLExporter.template_name = "formgrade"  # as nbgrader's formgrader configures it
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = dict(base_url="", submission_id="x", notebook_id=A, assignment_id=A, index=0,
                     total=1, notebook_path="", student="s2", last_name=None, first_name=None)
    page, _ = HTMLExporter(config=config).from_filename(str(_autograded(out, "s2")),
                                                        resources=resources)
    assert ANSWER in page
    assert "onerror" in page  # shown, as text
    tags = re.findall(r"<[^<>]*(?:onerror|javascript:)[^<>]*>", page)
    assert tags == [], tags
    nb = nbformat.read(_autograded(out, "s2"), 4)
    assert SCRIPTED_ANSWER in _cell(nb, "written_accumulate").source  # verbatim, in a code block
    release = nbformat.read(ROOT / "notebooks" / A / f"{A}.ipynb", 4)
    instructions = [c.source for c in release.cells if c.cell_type == "markdown"
                    and "nbgrader" not in c.metadata]
    assert instructions and all(any(c.source == t for c in nb.cells) for t in instructions)
