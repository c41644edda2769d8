"""The parts of the Gradescope autograder, without a sandbox: the results.json writer, the
student id and notebook chosen from an upload, the folders closed to the sandbox's uid, the zip."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder.errors import CourseLayoutError, UsageError
from autograder.gradescope.lockdown import locked
from autograder.gradescope.package import build_package, grading_requirements, packaged_notebook
from autograder.gradescope.results import gradescope_results
from autograder.gradescope.submission import find_notebook, folder_name, student_id
from fixtures.outputs import full_checks, result, write_solutions

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "tests" / "fixtures" / "gradescope_results.schema.json").read_text())


def test_results_carry_each_check_its_mistake_and_hint_but_no_sample():
    r = result("s02", full_checks({"dW_vs_numerical"}, "missing_transpose"))
    r["checks"][3]["message"] = "dW: relative error 1 (must be < 1e-6)\x1b[2J"
    out = gradescope_results(r, seconds=3.25, manual_points=2.0)
    jsonschema.validate(out, SCHEMA)
    assert out["score"] == 5.0 and out["execution_time"] == 3.25
    assert [t["number"] for t in out["tests"]] == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]
    failed = [t for t in out["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["affine_backward: dW_vs_numerical"]
    assert failed[0]["score"] == 0.0 and failed[0]["max_score"] == 1.0
    assert failed[0]["tags"] == ["affine_backward", "missing_transpose"]
    assert failed[0]["output"].startswith("dW: relative error 1 (must be < 1e-6)\\x1b[2J\n")
    assert "Looks like: Missing transpose (missing_transpose). dW^l = Delta^l.T @ A^{l-1}" in failed[0]["output"]
    text = json.dumps(out)
    values = [repr(v) for c in r["checks"] if c.get("sample") for v in c["sample"]["numerical"][:3]]
    assert len(values) == 9 and not any(v in text for v in values) and "sample" not in text
    assert "written answers (2 points) are graded by hand" in out["output"]


def test_visibility_is_checked_and_applied():
    r = result("s01", full_checks())
    held = gradescope_results(r, seconds=1, visibility="after_due_date")
    assert {t["visibility"] for t in held["tests"]} == {"after_due_date"} == {held["visibility"]}
    with pytest.raises(ValueError, match="visibility"):
        gradescope_results(r, seconds=1, visibility="public")


def test_a_missing_notebook_still_lists_every_function():
    r = result("s07", [dict(c, points=0.0, passed=False, message="no notebook was submitted")
                       for c in full_checks()], status="missing", reason="No notebook.")
    out = gradescope_results(r, seconds=0.1, note="No notebook was found in the upload: upload a2_vectorized.ipynb.")
    jsonschema.validate(out, SCHEMA)
    assert out["score"] == 0.0 and len(out["tests"]) == 6
    assert out["output"].splitlines()[1].startswith("No notebook was found in the upload")


@pytest.mark.parametrize("users, expected", [
    ([{"sid": " 12345 ", "email": "a@x.edu", "id": 7}], "12345"),
    ([{"sid": None, "email": "a@x.edu", "id": 7}], "a@x.edu"),
    ([{"sid": "", "email": "", "id": 7}], "7"),
    ([{"name": "only a name"}], "unknown"),
    ([], "unknown"),
    ("not a list", "unknown"),
    ([{"sid": "first"}, {"sid": "second"}], "first"),
])
def test_student_id_is_the_first_users_sid_else_email_else_id(users, expected):
    assert student_id({"users": users}) == expected


def test_folder_name_keeps_plain_ids_and_digests_the_rest():
    assert folder_name("ada01") == "ada01" and folder_name("a@x.edu") == "a@x.edu"
    for bad in ("../x", "a/b", ".hidden", "bell\x07", "x" * 300):
        name = folder_name(bad)
        assert name.startswith("student-") and "/" not in name and len(name) == 24
    assert folder_name("../x") != folder_name("a/b")


def test_the_notebook_is_picked_from_the_upload_without_following_links(tmp_path):
    up = tmp_path / "up"
    (up / "sub").mkdir(parents=True)
    (up / "sub" / "mine.ipynb").write_text("{}")
    (up / "notes.txt").write_text("x")
    found = find_notebook(up, "a1_gates")
    assert found.parts == ("sub", "mine.ipynb") and found.data == b"{}"
    (up / "other.ipynb").write_text("{}")
    found = find_notebook(up, "a1_gates")
    assert found.data is None and "several notebooks" in found.reason and "a1_gates.ipynb" in found.reason
    (up / "a1_gates.ipynb").write_text('{"cells": []}')
    assert find_notebook(up, "a1_gates").parts == ("a1_gates.ipynb",)
    secret = tmp_path / "secret.ipynb"
    secret.write_text("answer key")
    (up / "a1_gates.ipynb").unlink()
    (up / "a1_gates.ipynb").symlink_to(secret)
    found = find_notebook(up, "a1_gates")
    assert found.data != b"answer key"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "it is empty" in find_notebook(empty, "a1_gates").reason


def test_a_linked_folder_or_notebook_is_never_read(tmp_path):
    up = tmp_path / "up"
    up.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a1_gates.ipynb").write_text("answer key")
    (up / "a1_gates").symlink_to(elsewhere)
    found = find_notebook(up, "a1_gates")
    assert found.data is None and "No notebook" in found.reason


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as uid 65534")
def test_locked_folders_are_unreadable_to_the_sandbox_uid_and_restored():
    tmp_path = Path(tempfile.mkdtemp(prefix="lockdown-", dir="/tmp"))  # pytest's is 0700
    try:
        _check_lockdown(tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def _check_lockdown(tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "results").mkdir()
    secret = root / "source" / "answers.txt"
    secret.write_text("the key")
    for p in (tmp_path, root, root / "source", root / "results", secret):
        p.chmod(0o755 if p.is_dir() else 0o644)
    os.chown(root / "results", 65534, 65534)  # a folder that uid owns is taken back, then returned

    def read_as_nobody() -> int:
        return subprocess.run(["cat", str(secret)], user=65534, group=65534, extra_groups=[],
                              capture_output=True).returncode

    assert read_as_nobody() == 0
    with locked([root, root / "source", root / "results", tmp_path / "absent"]) as changed:
        assert [s.path for s in changed] == [root, root / "source", root / "results"]
        assert read_as_nobody() != 0
        assert (root / "results").stat().st_uid == os.geteuid()
        assert oct((root / "source").stat().st_mode & 0o777) == "0o700"
    assert read_as_nobody() == 0
    assert (root / "results").stat().st_uid == 65534
    assert [oct(p.stat().st_mode & 0o777) for p in (root, root / "source")] == ["0o755", "0o755"]


def test_locked_restores_after_an_exception(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with pytest.raises(RuntimeError):
        with locked([folder]):
            raise RuntimeError("grading failed")
    assert folder.stat().st_mode & 0o777 == 0o755


def test_the_package_holds_the_scripts_the_kit_and_no_hidden_tests(tmp_path):
    solutions = write_solutions(tmp_path)
    info = build_package("a2_vectorized", tmp_path / "ag.zip", seed=11, solutions=solutions)
    with zipfile.ZipFile(info.path) as archive:
        names = archive.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        config = json.loads(archive.read("kit/gradescope.json"))
        notebook = archive.read("kit/solutions/a2_vectorized/a2_vectorized.ipynb").decode()
        requirements = archive.read("kit/requirements-gradescope.txt").decode()
    assert names[:2] == ["setup.sh", "run_autograder"] and modes["run_autograder"] == 0o755
    assert "kit/autograder/gradescope/run.py" in names and "kit/backprop_lib/layers.py" in names
    assert not any("__pycache__" in n or n.startswith(("kit/tests", "kit/tools")) for n in names)
    assert config == {"assignment": "a2_vectorized", "seed": 11, "visibility": "visible",
                      "auto_max_score": 6.0, "manual_points": 2.0}
    assert "HIDDEN" not in notebook and "np.allclose(dpred, 0.5)" not in notebook
    assert "assert np.isclose(loss, 1.5)" in notebook  # the public check stays
    assert requirements.splitlines()[1].startswith("numpy==")
    again = build_package("a2_vectorized", tmp_path / "again.zip", seed=11, solutions=solutions)
    assert again.path.read_bytes() == info.path.read_bytes()  # reproducible


def test_package_errors_are_the_graders_own(tmp_path):
    solutions = write_solutions(tmp_path)
    with pytest.raises(CourseLayoutError, match="no assignment 'a9'"):
        build_package("a9", tmp_path / "x.zip", solutions=solutions)
    with pytest.raises(UsageError, match="visibility"):
        build_package("a2_vectorized", tmp_path / "x.zip", solutions=solutions, visibility="now")
    (tmp_path / "req.txt").write_text("tqdm==1.0\n")
    with pytest.raises(Exception, match="pins no numpy"):
        grading_requirements(tmp_path / "req.txt")


def test_packaged_notebook_clears_outputs():
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "### BEGIN HIDDEN TESTS\n", "assert x\n",
                                                     "### END HIDDEN TESTS\n", "y = 2\n"],
                     "outputs": [{"output_type": "stream", "text": "secret"}], "execution_count": 3,
                     "metadata": {}}]}
    cell = packaged_notebook(nb)["cells"][0]
    assert cell["source"] == "x = 1\ny = 2\n" and cell["outputs"] == [] and cell["execution_count"] is None
    assert nb["cells"][0]["outputs"]  # the input is not changed


def test_an_upload_without_a_notebook_gets_zero_with_the_reason(tmp_path):
    from autograder.gradescope.run import grade_submission

    kit = tmp_path / "kit"
    write_solutions(kit)
    root = tmp_path / "autograder"
    for folder in ("submission", "results", "source"):
        (root / folder).mkdir(parents=True)
    (root / "submission" / "notes.txt").write_text("I forgot the notebook")
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"sid": "../up", "id": 3}]}))
    out = gradescope_results_of(grade_submission(root, {"assignment": "a2_vectorized", "seed": 0}, kit))
    assert out["score"] == 0.0 and len(out["tests"]) == 3  # one failing row per graded function
    assert "No notebook was found in the upload (it holds notes.txt): upload a2_vectorized.ipynb." in out["output"]
    assert out["extra_data"]["student_id"] == "../up" and out["extra_data"]["graded_as"].startswith("student-")
    assert out["extra_data"]["status"] == "missing"
    assert oct(root.stat().st_mode & 0o777) != "0o700"  # unlocked again


def gradescope_results_of(results: dict) -> dict:
    jsonschema.validate(results, SCHEMA)
    return results


def test_the_gradescope_command(tmp_path, capsys):
    from autograder import cli

    solutions = write_solutions(tmp_path)
    zip_path = tmp_path / "out" / "autograder.zip"
    assert cli.main(["gradescope", "a2_vectorized", "--output", str(zip_path), "--seed", "4",
                     "--solutions", str(solutions), "--visibility", "after_published"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {zip_path}" in printed and "seed 4, 6 autograded points (+2 written" in printed
    with zipfile.ZipFile(zip_path) as archive:
        config = json.loads(archive.read("kit/gradescope.json"))
    assert (config["seed"], config["visibility"]) == (4, "after_published")
    assert cli.main(["gradescope", "a9", "--output", str(zip_path), "--solutions", str(solutions)]) == 2
    assert "no assignment 'a9'" in capsys.readouterr().err
