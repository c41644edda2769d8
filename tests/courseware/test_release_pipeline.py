"""The release pipeline: sync from the library, nbgrader build + post-processing, check."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder.registry import HELPER_MODULES
from courseware import cells, notebooks
from courseware.check import check
from courseware.layout import ROOT, Layout
from courseware.release import build, explain_stubs
from courseware.sync import STAMP_PREFIX, generated_source, library_source, parse_spec, sync
from courseware.validation import validate_solution_notebook

TOY_MODULE = textwrap.dedent('''
    """A toy graded module."""
    import numpy as np

    SCALE = 2.0


    def double(x):
        """x of shape (N,) -> 2 x."""
        # TASK: return SCALE * x.
        ### BEGIN SOLUTION
        return SCALE * x
        ### END SOLUTION


    class Neg:
        """z = -x."""

        def forward(self, x):
            # TASK: return -x,
            # elementwise.
            ### BEGIN SOLUTION
            return -x
            ### END SOLUTION

        def backward(self, dz):
            # TASK: (-dz,)
            ### BEGIN SOLUTION
            return (-dz,)
            ### END SOLUTION
''').lstrip()


def toy_notebook() -> nbformat.NotebookNode:
    return cells.notebook([
        cells.markdown("# Toy assignment"),
        cells.imports("import numpy as np\nfrom backprop_lib.checks import check_close, run_stub"),
        cells.solution("toy", ["backprop_lib.toy:SCALE", "backprop_lib.toy:double", "backprop_lib.toy:Neg"]),
        cells.test("double", ["double"], 2, "check_close('double', run_stub('double', double, 1.5), 3.0)\n"
                                            "### BEGIN HIDDEN TESTS\nassert double(4.0) == 8.0\n### END HIDDEN TESTS"),
        cells.markdown("Why?"),
        cells.written("why", 1, "Because."),
    ])


@pytest.fixture
def project(tmp_path) -> Layout:
    """A throwaway project: backprop_lib/toy.py and solutions/toy/toy.ipynb."""
    layout = Layout(root=tmp_path, solutions=tmp_path / "solutions", notebooks=tmp_path / "notebooks",
                    library=tmp_path / "backprop_lib")
    layout.library.mkdir()
    (layout.library / "toy.py").write_text(TOY_MODULE)
    for helper in HELPER_MODULES:  # every release's backprop_lib/ holds them
        shutil.copy(ROOT / "backprop_lib" / f"{helper}.py", layout.library)
    notebooks.write(toy_notebook(), layout.solution_notebook("toy"))
    return layout


def test_parse_spec_reads_module_and_qualname():
    assert parse_spec("backprop_lib.gates:AddGate") == ("gates", "AddGate")
    for bad in ("gates:AddGate", "backprop_lib.gates", "numpy.linalg:norm", "backprop_lib.gates:Add Gate"):
        with pytest.raises(ValueError, match="kit.source entry"):
            parse_spec(bad)


def test_library_source_keeps_the_closing_marker_after_a_return(project):
    text, file = library_source("backprop_lib.toy:double", project.library)
    assert file == "backprop_lib/toy.py"
    assert text.startswith("def double(x):") and text.endswith("### END SOLUTION")
    method, _ = library_source("backprop_lib.toy:Neg.backward", project.library)
    assert method.startswith("def backward(self, dz):") and method.count("END SOLUTION") == 1
    assert library_source("backprop_lib.toy:SCALE", project.library)[0] == "SCALE = 2.0"
    with pytest.raises(ValueError, match="defines no 'missing'"):
        library_source("backprop_lib.toy:missing", project.library)


def test_generated_source_is_stamped_with_its_origin(project):
    text = generated_source(["backprop_lib.toy:double", "backprop_lib.toy:Neg"], project.library)
    first, rest = text.split("\n", 1)
    assert first.startswith(STAMP_PREFIX) and "backprop_lib/toy.py" in first and "make notebooks" in first
    assert "\n\n\nclass Neg:" in rest
    with pytest.raises(ValueError, match="non-empty list"):
        generated_source([], project.library)


def test_stubs_get_their_task_and_owner():
    source = textwrap.dedent('''
        class Neg:
            def forward(self, x):
                # TASK: return -x,
                # elementwise.
                # YOUR CODE HERE
                raise NotImplementedError()
        def f(x):
            # TASK: say "hi"
            # YOUR CODE HERE
            raise NotImplementedError()
    ''')
    out = explain_stubs(source, "a9", "cell 1")
    assert 'raise NotImplementedError("a9 Neg.forward: return -x, elementwise.")' in out
    assert 'raise NotImplementedError("a9 f: say \\"hi\\"")' in out
    with pytest.raises(ValueError, match="no '# TASK:' line"):
        explain_stubs("def g():\n    # YOUR CODE HERE\n    raise NotImplementedError()", "a9", "cell 2")


def test_normalize_strips_outputs_and_gives_deterministic_ids():
    nb = toy_notebook()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="noise")]
    nb.cells[1].execution_count = 7
    nb.cells[0].metadata["collapsed"] = True
    first = notebooks.dumps(notebooks.normalize(nb))
    again = notebooks.dumps(notebooks.normalize(nbformat.reads(first, as_version=4)))
    assert first == again and first.endswith("\n")
    nb = nbformat.reads(first, as_version=4)
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert [c.id for c in nb.cells][1:4] == ["imports", "sol_toy", "test_double"]
    assert nb.cells[0].id.startswith("md-") and "collapsed" not in nb.cells[0].metadata


def test_validation_lists_every_broken_rule():
    nb = toy_notebook()
    del nb.cells[1].metadata["kit"]                       # no import cell any more
    del nb.cells[3].metadata["kit"]["functions"]          # test cell without functions
    nb.cells[5].metadata["nbgrader"]["grade"] = False     # no written question left
    with pytest.raises(ValueError) as err:
        validate_solution_notebook(nb, "toy.ipynb")
    message = str(err.value)
    assert "exactly one import cell" in message and "kit.functions" in message and "written question" in message


def test_sync_build_check_round_trip(project):
    assert sync(project, ["toy"]) == [project.solution_notebook("toy")]
    assert sync(project, ["toy"]) == []                    # idempotent
    build(project, ["toy"])
    release = notebooks.read(project.release_dir("toy") / "toy.ipynb")
    assert release.cells[0].id == "generated-note" and "make notebooks" in release.cells[0].source
    code = "\n".join(c.source for c in release.cells)
    assert 'raise NotImplementedError("toy double: return SCALE * x.")' in code
    lines = {line.strip() for line in code.split("\n")}
    assert "return SCALE * x" not in lines and "assert double(4.0) == 8.0" not in lines
    assert "YOUR ANSWER HERE" in code
    package = sorted(["__init__.py", "digits.csv.gz", *(f"{m}.py" for m in HELPER_MODULES)])
    assert sorted(p.name for p in project.release_dir("toy").rglob("*") if p.is_file()) == sorted(["toy.ipynb", *package])
    assert sorted(p.name for p in (project.solutions / "toy" / "backprop_lib").iterdir()) == package
    assert check(project, ["toy"]) == []

    (project.library / "checks.py").write_text((project.library / "checks.py").read_text() + "\n# changed\n")
    assert check(project, ["toy"]) == ["differs  solutions/toy/backprop_lib/checks.py",
                                       "differs  notebooks/toy/backprop_lib/checks.py"]
    build(project, ["toy"])
    assert check(project, ["toy"]) == []

    (project.library / "toy.py").write_text(TOY_MODULE.replace("# TASK: return SCALE * x.", "# TASK: twice x."))
    assert check(project, ["toy"]) == ["differs  solutions/toy/toy.ipynb", "differs  notebooks/toy/toy.ipynb"]
    (project.release_dir("toy") / "stray.txt").write_text("x")
    assert "extra    notebooks/toy/stray.txt" in check(project, ["toy"])
    (project.notebooks / "gone").mkdir()
    assert "extra    notebooks/gone/ (no solutions/gone/gone.ipynb)" in check(project, ["toy"])


def test_unknown_assignment_is_a_clear_error(project):
    with pytest.raises(ValueError, match="no solution notebook for nope"):
        project.assignments(["nope"])


def test_committed_notebooks_are_up_to_date():
    """CI: `python -m courseware check` regenerates solutions/ and notebooks/ and finds no diff."""
    result = subprocess.run([sys.executable, "-m", "courseware", "check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=240)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert not (ROOT / "gradebook.db").exists()


def test_mutants_flip_a_sign_or_drop_a_transpose():
    from courseware.verify import mutants

    text = textwrap.dedent('''
        def affine_backward(dout, x, W):
            # TASK: dx, dW, db.
            ### BEGIN SOLUTION
            dx = dout @ W
            dW = dout.T @ x
            db = dout.sum(axis=0)
            ### END SOLUTION
            return dx, dW, db
    ''')
    found = {kind: texts for region, kind, texts in mutants(text) if region.owner == "affine_backward"}
    assert set(found) == {"wrong_sign", "missing_transpose"}
    assert len(found["wrong_sign"]) == 3                       # db, then dW, then dx
    import numpy as np
    dout, x, W = np.ones((2, 3)), np.arange(8.0).reshape(2, 4), np.arange(12.0).reshape(3, 4)
    for mutated in found["wrong_sign"]:
        namespace: dict = {}
        exec(mutated, namespace)
        dx, dW, db = namespace["affine_backward"](dout, x, W)
        assert np.any(db < 0) or np.any(dW < 0) or np.any(dx < 0)
    assert "dout @ x" in found["missing_transpose"][0]


def test_run_code_cells_stops_at_the_first_error_and_ignores_magics():
    from courseware.execute import run_code_cells

    result = run_code_cells(["%matplotlib inline\nx = 2", "print(x * 21)", "1 / 0", "print('never')"])
    assert result.failed_cell == 2 and isinstance(result.error, ZeroDivisionError)
    assert result.stdout == "42\n" and result.describe().startswith("cell 2: ZeroDivisionError")
    assert run_code_cells(["y = 1"]).ok
