"""Gradescope's autograder end to end: the package built, unpacked into an `/autograder` that
exists only in the test's own mount namespace, `setup.sh --prefix ... --no-apt` really
installing the pinned grading environment into a fresh venv, and `run_autograder` grading a
correct and a mistaken a1_gates submission through the real sandbox, and a probing one with
bubblewrap masked (Docker's defaults: the fallback, where `/autograder` is closed to uid 65534).

`/autograder` is made with `unshare -m`: a tmpfs becomes the new root, every top-level entry of
the machine's `/` is bind-mounted into it, the test's folder is bound at `/autograder`, then
`pivot_root`, so the machine's `/` is never written. (`setup.sh` gets the machine's uv on PATH,
so the install is real but taken from uv's cache; the full install from PyPI was measured once
for the README.)
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder.gradescope.package import build_package
from autograder.pipeline.run import grade_class
from autograder.sandbox.launch import bwrap_skip_reason
from tools.demo_class import as_submitted

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "tests" / "fixtures" / "gradescope_results.schema.json").read_text())
A1 = "a1_gates"
SEED = 7
UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (a mount namespace with bind mounts and pivot_root)"
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    if shutil.which("unshare", path=path) is None or shutil.which("pivot_root", path=path) is None:
        return "needs util-linux's unshare and pivot_root"
    if not os.path.exists(UV):
        return "needs uv (the venv's) to install the grading environment from its cache"
    return bwrap_skip_reason()


SKIP = _skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

# Run "$@" with the folder $2 mounted at /autograder, in this process's (new) mount namespace.
ENTER = r"""
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
R=$1; AG=$2; shift 2
mount --make-rprivate /
mount -t tmpfs -o mode=0755 test-root "$R"
for entry in /* /.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry#/}
    [ "$name" = autograder ] && continue
    if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$R/$name"
    elif [ -d "$entry" ]; then mkdir "$R/$name"; mount --rbind "$entry" "$R/$name"
    else touch "$R/$name"; mount --bind "$entry" "$R/$name"; fi
done
[ "${MASK_BWRAP:-}" = 1 ] && mount --bind /bin/false "$R$(command -v bwrap)"  # as in Docker
mkdir "$R/autograder"; mount --bind "$AG" "$R/autograder"
mkdir "$R/.old-root"; cd "$R"; pivot_root . .old-root; umount -l /.old-root; rmdir /.old-root
cd /autograder
exec "$@"
"""


@dataclass
class Installed:
    tmp: Path
    source: Path
    prefix: Path
    setup_seconds: float
    setup_output: str


def _setup_env(bin_dir: Path) -> dict[str, str]:
    """This environment (proxy and certificate settings) without the venv, uv first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("gradescope")
    info = build_package(A1, tmp / "autograder.zip", seed=SEED, solutions=REPO / "solutions")
    source = tmp / "source"
    with zipfile.ZipFile(info.path) as archive:
        archive.extractall(source)
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    for name in ("setup.sh", "run_autograder"):  # zipfile does not restore modes
        (source / name).chmod(0o755)
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(UV)
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    started = time.monotonic()
    done = subprocess.run(["bash", str(source / "setup.sh"), "--prefix", str(tmp / "prefix"),
                           "--no-apt", "--python", str(python)], capture_output=True, text=True,
                          env=_setup_env(bin_dir), timeout=600)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"\nsetup.sh --no-apt (uv cache): {seconds:.1f} s; {done.stdout.strip().splitlines()[-2]}")
    return Installed(tmp, source, tmp / "prefix", seconds, done.stdout)


def _mistaken(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """MultiplyGate's backward with both gradients negated (the mistake `wrong_sign`)."""
    right = "return self.y * dz, self.x * dz"
    cells = [c for c in nb.cells if c.cell_type == "code" and right in c.source]
    assert len(cells) == 1
    cells[0].source = cells[0].source.replace(right, "return -(self.y * dz), -(self.x * dz)")
    return nb


@pytest.fixture(scope="module")
def submissions() -> dict[str, nbformat.NotebookNode]:
    solution = nbformat.read(REPO / "solutions" / A1 / f"{A1}.ipynb", as_version=4)
    return {"ada01": as_submitted(solution), "bob02": _mistaken(as_submitted(solution))}


def run_autograder(installed: Installed, sid: str, nb: nbformat.NotebookNode,
                   mask_bwrap: bool = False) -> tuple[dict, float, Path]:
    """Gradescope's run for one submission: results.json, wall seconds, the /autograder folder."""
    root = installed.tmp / f"autograder-{sid}"
    shutil.copytree(installed.source, root / "source", symlinks=True)
    shutil.copy2(installed.source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    nbformat.write(nb, root / "submission" / f"{A1}.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "users": [{"email": f"{sid}@example.edu", "id": 4242, "name": sid, "sid": sid}]}))
    new_root = installed.tmp / f"newroot-{sid}"
    new_root.mkdir()
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (root, root / "source", root / "results")}
    started = time.monotonic()
    done = subprocess.run(["unshare", "-m", "sh", "-c", ENTER, "enter", str(new_root), str(root),
                           "./run_autograder"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, MASK_BWRAP="1" if mask_bwrap else "0"))
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in modes} == modes  # restored after the run
    return json.loads((root / "results" / "results.json").read_text()), seconds, root


@pytest.fixture(scope="module")
def graded(installed, submissions) -> dict[str, tuple[dict, float]]:
    had_autograder = os.path.exists("/autograder")
    out = {sid: run_autograder(installed, sid, nb)[:2] for sid, nb in submissions.items()}
    assert os.path.exists("/autograder") == had_autograder  # the machine's / is untouched
    return out


@pytest.fixture(scope="module")
def class_grader(tmp_path_factory, submissions) -> dict[str, dict]:
    """Our own grader on the same notebooks, student ids and seed."""
    tmp = tmp_path_factory.mktemp("class")
    for sid, nb in submissions.items():
        (tmp / "submitted" / sid / A1).mkdir(parents=True)
        nbformat.write(nb, tmp / "submitted" / sid / A1 / f"{A1}.ipynb")
    summary = grade_class(tmp / "submitted", tmp / "out", solutions=REPO / "solutions",
                          seed=SEED, jobs=2, outputs=False, progress=False)
    return {r["student_id"]: r for r in summary.results if r["assignment"] == A1}


def hidden_test_lines() -> list[str]:
    nb = json.loads((REPO / "solutions" / A1 / f"{A1}.ipynb").read_text())
    lines = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.DOTALL):
            lines += [line.strip() for line in region.splitlines() if len(line.strip()) >= 12]
    assert len(lines) > 10
    return lines


def test_setup_installs_the_pinned_environment(installed):
    assert (installed.source / "kit" / "prefix").read_text().strip() == str(installed.prefix)
    python = installed.prefix / "venv" / "bin" / "python"
    version = subprocess.run([str(python), "-c", "import numpy; print(numpy.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    pins = (REPO / "requirements.txt").read_text()
    assert f"numpy=={version}" in pins
    assert "self-test: the reference solution of a1_gates scored 12 of 12" in installed.setup_output


def test_results_validate_and_equal_the_class_grader(graded, class_grader):
    for sid, (results, _) in graded.items():
        jsonschema.validate(results, SCHEMA)
        ours = class_grader[sid]
        assert results["score"] == pytest.approx(ours["auto_score"], abs=1e-9)
        assert [t["name"] for t in results["tests"]] == [f"{c['function']}: {c['check']}" for c in ours["checks"]]
        assert [t["score"] for t in results["tests"]] == pytest.approx([c["points"] for c in ours["checks"]])
        assert [t["max_score"] for t in results["tests"]] == pytest.approx([c["max_points"] for c in ours["checks"]])
        assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(12.0, abs=1e-4)
        assert results["extra_data"]["student_id"] == sid and results["extra_data"]["seed"] == SEED
        assert all(t["visibility"] == "visible" and t["output_format"] == "text" for t in results["tests"])
        assert results["stdout_visibility"] == "hidden"
    assert graded["ada01"][0]["score"] == 12.0
    assert all(t["status"] == "passed" for t in graded["ada01"][0]["tests"])


def test_the_mistaken_submission_is_told_its_mistake(graded):
    results = graded["bob02"][0]
    assert results["score"] < 12.0
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["name"].startswith("MultiplyGate") for t in failed)
    for test in failed:
        assert "wrong_sign" in test["tags"]
        assert "Looks like: Wrong sign (wrong_sign)" in test["output"]
        assert "wrong sign" in test["output"].splitlines()[0]


def test_no_hidden_test_code_in_the_results_or_the_package(graded, installed):
    hidden = hidden_test_lines()
    for results, _ in graded.values():
        text = json.dumps(results)
        assert "HIDDEN" not in text
        assert [line for line in hidden if line in text] == []
    packaged = (installed.source / "kit" / "solutions" / A1 / f"{A1}.ipynb").read_text()
    assert "HIDDEN TESTS" not in packaged
    tests = ["".join(c["source"]) for c in json.loads(packaged)["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")]
    assert len(tests) >= 10 and [line for line in hidden if any(line in t for t in tests)] == []


def test_one_submission_wall_time(graded):
    results, seconds = graded["ada01"]
    print(f"\nrun_autograder, one a1_gates submission: {seconds:.1f} s wall "
          f"(execution_time {results['execution_time']:.1f} s, sandbox {results['extra_data']['sandbox']})")
    assert seconds < 120  # "a few seconds"; a wide margin for a busy machine


PROBE = """import os
        seen = []
        for path in ("/autograder/source/kit/gradescope.json", "/autograder/submission_metadata.json",
                     "/autograder/results", "/etc/hostname"):
            try:
                seen.append(path + "=" + (str(os.listdir(path)) if os.path.isdir(path) else open(path).read(40)))
            except OSError as exc:
                seen.append(path + ":" + type(exc).__name__)
        raise RuntimeError(" | ".join(seen) + " uid=" + str(os.getuid()))"""


def test_without_namespaces_the_grader_folders_are_closed_to_student_code(installed, submissions):
    """Docker's defaults: bubblewrap cannot run (here: masked by /bin/false). Student code runs as
    uid 65534 and finds /autograder closed; what any uid may read (/etc/hostname) stays readable,
    as the README says."""
    nb = json.loads(json.dumps(submissions["ada01"]))
    nb = nbformat.from_dict(nb)
    right = "return self.y * dz, self.x * dz"
    cell = next(c for c in nb.cells if c.cell_type == "code" and right in c.source)
    cell.source = cell.source.replace(right, PROBE)
    results, _, root = run_autograder(installed, "eve03", nb, mask_bwrap=True)
    jsonschema.validate(results, SCHEMA)
    assert results["extra_data"]["sandbox"].startswith("fallback")
    probe = next(t["output"] for t in results["tests"] if "uid=" in t["output"])
    assert "uid=65534" in probe
    for path in ("/autograder/source/kit/gradescope.json", "/autograder/submission_metadata.json",
                 "/autograder/results"):
        assert f"{path}:PermissionError" in probe
    assert "/etc/hostname=" in probe
    assert '"assignment"' not in probe and "eve03@example.edu" not in probe
    assert results["score"] < 12.0  # MultiplyGate's checks fail, the rest still count
