"""One class of attacking students, graded by the real command with a kit installed the way a
course installs it (`pip install .`, not editable), once by a root grader and once by uid 65534.

The attacks (issue 11, parts 1 and 3), each a student of the class, each code that runs at load
time at the end of the last solution cell, keeping the stub's functions unless it stole better ones:
- `core_pattern`: set `kernel.core_pattern` to a pipe, then crash a child to fire it;
- `sysctl`: open every /proc/sys file for writing, write values back and flip a few;
- `read_root`: list and read /root, /home, /work; look for the solutions anywhere and run them;
- `site_packages`: find `backprop_lib` (the answer key) on sys.path, in site-packages, in any
  venv or prefix, and import it;
- `mountinfo`: read host paths from /proc/self/mountinfo and /proc/1, and follow them;
- `escape`: unshare a user namespace, mount, ptrace pid 1, setuid(0);
- `daemon`: leave a double-forked process behind that would act after grading;
- `own_library`: a correct `backprop_lib/` beside the notebook, imported by the notebook.

Each attack scores no more than the untouched stub, loads (status ok, so it really ran), the
honest student keeps full marks, no sandbox process survives, `/proc/sys/kernel` and
`/proc/sys/vm` are unchanged, and grades.csv is unchanged 10 s after the command exits.
"""
from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.results import read_grades_csv
from autograder.sandbox.launch import bwrap_skip_reason
from tools.demo_class import as_submitted

from fixtures.own_processes import processes_of
from fixtures.unprivileged import nobody_folder, nobody_skip_reason, run_grader, scratch_kit

REPO = Path(__file__).resolve().parents[3]
A = "a2_vectorized"
SKIP = bwrap_skip_reason() or nobody_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None,
                                                                        reason=SKIP or "")]
VOLATILE = ("/proc/sys/kernel/ns_last_pid", "/proc/sys/kernel/random/uuid",
            "/proc/sys/kernel/random/entropy_avail", "/proc/sys/kernel/pty/nr")

STEAL = r'''
import glob as _glob, importlib as _il, json as _json, os as _os, sys as _sys
_STOLEN = []
def _adopt(folder):
    """Import every module of the backprop_lib package at `folder` into this namespace."""
    for name in [n for n in _sys.modules if n.split('.')[0] == 'backprop_lib']:
        del _sys.modules[name]
    _sys.path.insert(0, _os.path.dirname(folder))
    for f in sorted(_os.listdir(folder)):
        if f.endswith('.py') and f != '__init__.py':
            try:
                module = _il.import_module('backprop_lib.' + f[:-3])
            except Exception:
                continue
            for k, v in vars(module).items():
                if callable(v) and not k.startswith('_'):
                    globals()[k] = v
                    _STOLEN.append(k)
def _libraries(roots, depth=14):
    for root in roots:
        for folder, dirs, files in _os.walk(root):
            if folder.count('/') > depth or folder.startswith(('/proc', '/sys', '/dev')):
                dirs[:] = []
            elif _os.path.basename(folder) == 'backprop_lib' and 'layers.py' in files \
                    and not folder.startswith('/grader'):
                yield folder
def _solutions(roots, depth=14):
    for root in roots:
        for folder, dirs, files in _os.walk(root):
            if folder.count('/') > depth or folder.startswith(('/proc', '/sys', '/dev')):
                dirs[:] = []
            for f in files:
                if f == 'a2_vectorized.ipynb':
                    yield _os.path.join(folder, f)
def _run_solution(path):
    try:
        cells = _json.load(open(path))['cells']
    except Exception:
        return
    for cell in cells:
        if cell['cell_type'] == 'code':
            try:
                exec(''.join(cell['source']), globals())
                _STOLEN.append(path)
            except Exception:
                pass
def _raw(nr, *args):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(nr, *args)
'''

ATTACKS = {
    "core_pattern": r'''
try:
    with open('/proc/sys/kernel/core_pattern', 'w') as _f:
        _f.write('|/bin/sh -c "echo stolen > /tmp/pwned"')
except OSError:
    pass
import resource as _r, signal as _sig
_pid = _os.fork()
if _pid == 0:
    try:
        _r.setrlimit(_r.RLIMIT_CORE, (_r.RLIM_INFINITY, _r.RLIM_INFINITY))
    except (ValueError, OSError):
        pass
    _os.kill(_os.getpid(), _sig.SIGSEGV)
    _os._exit(0)
_os.waitpid(_pid, 0)
''',
    "sysctl": r'''
_flips = {'/proc/sys/kernel/core_uses_pid': None, '/proc/sys/vm/overcommit_ratio': None,
          '/proc/sys/kernel/randomize_va_space': '0', '/proc/sys/vm/swappiness': '1'}
for _folder, _dirs, _files in _os.walk('/proc/sys'):
    for _name in _files:
        _path = _os.path.join(_folder, _name)
        try:
            _old = open(_path).read()
            _new = _flips.get(_path) or (str(int(_old) + 1) if _path in _flips else _old)
            with open(_path, 'w') as _f:
                _f.write(_new)
        except (OSError, ValueError):
            pass
''',
    "read_root": r'''
for _p in ('/root', '/home', '/work', '/root/.bash_history', '/etc/shadow', '/etc/passwd'):
    try:
        _os.listdir(_p) if _os.path.isdir(_p) else open(_p).read()
    except OSError:
        pass
for _nb in _solutions(['/root', '/home', '/work', '/srv', '/opt', '/tmp', '/']):
    if 'solutions' in _nb:
        _run_solution(_nb)
        break
''',
    "site_packages": r'''
import importlib.util as _u
for _folder in _libraries([p for p in _sys.path if p] + ['/opt', '/usr', '/usr/local', '/tmp', '/']):
    _adopt(_folder)
    break
''',
    "mountinfo": r'''
_roots = []
for _line in open('/proc/self/mountinfo'):
    _roots.append(_line.split()[3])
for _pid in ('1', 'self'):
    for _what in ('cmdline', 'environ'):
        try:
            _roots += [w for w in open(f'/proc/{_pid}/{_what}').read().replace('\0', ' ').replace('=', ' ').split() if w.startswith('/')]
        except OSError:
            pass
_candidates = []
for _r in _roots:
    _candidates += [_r, '/proc/1/root' + _r, _os.path.dirname(_r), _os.path.dirname(_os.path.dirname(_r))]
for _c in _candidates:
    if _os.path.isdir(_c) and _c not in ('/', '/usr', '/proc/1/root/'):
        for _folder in _libraries([_c], depth=20):
            _adopt(_folder)
            break
        for _nb in _solutions([_c], depth=20):
            _run_solution(_nb)
            break
''',
    "escape": r'''
_raw(272, 0x10000000)                                  # unshare(CLONE_NEWUSER)
_raw(165, b'/', b'/tmp', None, 0x1000, None)            # mount --bind / /tmp
_raw(101, 16, 1, 0, 0)                                  # ptrace(PTRACE_ATTACH, 1)
try:
    _os.setuid(0)
except OSError:
    pass
for _folder in _libraries(['/tmp']):
    _adopt(_folder)
''',
    "daemon": r'''
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        import time as _t
        _t.sleep(30)
        try:
            open('/proc/sys/kernel/core_pattern', 'w').write('|/bin/false')
        except OSError:
            pass
    _os._exit(0)
''',
    "own_library": r'''
for _folder in _libraries(['/tmp', '/grader', '/']):
    _adopt(_folder)
try:
    from backprop_lib.layers import *  # the copy beside my notebook, if the grader shipped it
except ImportError:
    pass
''',
}


def sysctl_snapshot() -> dict[str, str]:
    """Every readable value under /proc/sys/kernel and /proc/sys/vm, but the volatile ones."""
    values = {}
    for top in ("/proc/sys/kernel", "/proc/sys/vm"):
        for folder, _, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                if path in VOLATILE:
                    continue
                try:
                    with open(path) as f:
                        values[path] = f.read()
                except OSError:
                    pass
    return values


def restore(before: dict[str, str], after: dict[str, str]) -> None:
    """If an attack ever got through, put the host back before the assertion reports it."""
    for path, value in before.items():
        if after.get(path) != value:
            try:
                with open(path, "w") as f:
                    f.write(value)
            except OSError:
                pass


def build_class(root: Path) -> Path:
    """SUBMITTED with the honest student, the untouched stub and one student per attack."""
    submitted = root / "submitted"
    source = nbformat.read(REPO / "solutions" / A / f"{A}.ipynb", as_version=4)
    release = REPO / "notebooks" / A / f"{A}.ipynb"
    versions = {"honest": as_submitted(source), "stub": nbformat.read(release, as_version=4)}
    for name, attack in ATTACKS.items():
        nb = nbformat.read(release, as_version=4)
        last = [c for c in nb.cells if c.cell_type == "code"
                and c.metadata.get("nbgrader", {}).get("solution")][-1]
        # after the stubs' definitions, so what it steals replaces them
        last.source += "\n" + STEAL + "try:\n" + "\n".join(
            "    " + line for line in attack.splitlines()) + "\nexcept Exception:\n    pass\n"
        versions[f"attack_{name}"] = nb
    for sid, nb in versions.items():
        folder = submitted / sid / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A}.ipynb")
    # a correct library of the student's own, beside the notebook (never staged, never imported)
    shutil.copytree(REPO / "backprop_lib", submitted / "attack_own_library" / A / "backprop_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    readable_by_all(root)
    return submitted


def readable_by_all(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


@pytest.fixture(scope="module")
def graded():
    """Both runs, then one 10 s wait, then what everything looked like."""
    kit = scratch_kit((A,))
    root = nobody_folder("attack-class")
    submitted = build_class(root)
    tmp = nobody_folder("tmp", parent=root)  # the runs' TMPDIR: their runtime and stages
    before = sysctl_snapshot()
    def grade(who: str) -> dict:
        out = nobody_folder(f"out-{who}", parent=root)
        done = run_grader(kit, submitted, out, as_nobody=(who == "nobody"), tmpdir=tmp)
        csv = (out / "grades.csv").read_bytes() if (out / "grades.csv").exists() else b""
        return {"done": done, "out": out, "csv": csv}

    with ThreadPoolExecutor(2) as pool:  # both graders at once: half the wall time
        runs = dict(zip(("root", "nobody"), pool.map(grade, ("root", "nobody"))))
    time.sleep(10)
    after = sysctl_snapshot()
    restore(before, after)
    for run in runs.values():
        run["csv_later"] = (run["out"] / "grades.csv").read_bytes()
        run["rows"] = {(r["student_id"], r["assignment"]): r
                       for r in read_grades_csv(run["out"] / "grades.csv")}
    return {"runs": runs, "before": before, "after": after,
            "survivors": processes_of(tmp, kit.root.parent)}


@pytest.mark.parametrize("who", ["root", "nobody"])
def test_every_attack_scores_at_most_the_stub_and_honest_grades_hold(graded, who):
    run = graded["runs"][who]
    assert run["done"].returncode == 0, run["done"].stderr[-3000:]
    rows = run["rows"]
    stub = float(rows[("stub", A)]["auto_score"])
    honest = rows[("honest", A)]
    assert honest["status"] == "ok"
    assert float(honest["auto_score"]) == float(honest["auto_max_score"]) > stub
    for name in ATTACKS:
        row = rows[(f"attack_{name}", A)]
        assert row["status"] == "ok", (name, row)  # it loaded: the attack really ran
        assert float(row["auto_score"]) <= stub, (name, row)


def test_nothing_on_the_host_changed_and_nothing_survived(graded):
    changed = sorted(k for k in graded["before"] if graded["after"].get(k) != graded["before"][k])
    assert changed == []
    assert graded["survivors"] == []


@pytest.mark.parametrize("who", ["root", "nobody"])
def test_grades_are_the_same_ten_seconds_after_the_command(graded, who):
    run = graded["runs"][who]
    assert run["csv"] and run["csv_later"] == run["csv"]
