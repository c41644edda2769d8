"""The worker's wire format and its loop, run as a plain subprocess (no sandbox needed)."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time as clock
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox.inside import wire, worker
from autograder.sandbox.launch import Limits, Sandbox, SandboxEnded, SandboxUnavailable, preflight

from fixtures.toy_class import FIXTURES, toy_stage


def test_arrays_round_trip_keeps_shape_dtype_and_zero_d():
    values = {"x": np.arange(6.0).reshape(2, 3), "loss": np.array(0.116), "y": np.array([1, 2]),
              "mask": np.array([True, False]), "name": "affine", "h": 1e-5}
    meta, blob = wire.encode_arrays(values)
    back = wire.decode_arrays(json.loads(json.dumps(meta)), blob)
    assert back["x"].shape == (2, 3) and back["x"].dtype == np.float64
    assert back["loss"].shape == () and float(back["loss"]) == 0.116
    assert back["y"].dtype == np.int64 and back["mask"].dtype == np.bool_
    assert back["name"] == "affine" and back["h"] == 1e-5
    assert np.array_equal(back["x"], values["x"])


def test_a_lying_subclass_becomes_its_plain_numbers():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    meta, blob = wire.encode_arrays({"out": np.zeros(3).view(Liar)})
    out = wire.decode_arrays(meta, blob)["out"]
    assert type(out) is np.ndarray
    assert not np.array_equal(out, np.ones(3))


@pytest.mark.parametrize("bad, message", [
    ({"__array__": ["|O", [1], 0, 8]}, "dtype"),
    ({"__array__": ["<f8", [2], 0, 16]}, "outside"),
    ({"__array__": ["<f8", [3], 0, 8]}, "does not match"),
    ({"__array__": ["<f8", [-1], 0, 8]}, "bad shape"),
])
def test_decode_rejects_what_is_not_plain_numbers(bad, message):
    with pytest.raises(ValueError, match=message):
        wire.decode_arrays({"out": bad}, b"\0" * 8)


def test_compile_cell_comments_out_magics_only_when_needed():
    code = worker.compile_cell("%matplotlib inline\nx = 3\n!ls\n", "imports")
    ns: dict = {}
    exec(code, ns)
    assert ns["x"] == 3
    with pytest.raises(SyntaxError):
        worker.compile_cell("def f(:\n    pass\n", "sol_f")


def test_inert_modules_stand_in_for_plotting():
    worker.install_inert_modules(("fakeplotlib",))
    import fakeplotlib.pyplot as plt  # noqa: the inert finder serves it

    fig, ax = plt.subplots(1, 2)
    ax.plot([1, 2]).set_label("x")
    assert isinstance(fig, worker.Inert)


def run_worker(tmp_path: Path, cells: list[dict], tasks: list[dict], blob: bytes = b"") -> list[dict]:
    """Run the worker (plain subprocess) with the probe drivers; return its frames' headers."""
    stage = toy_stage(tmp_path / "stage", FIXTURES / "probe_drivers.py")
    read_fd, write_fd = os.pipe()
    request = json.dumps({"cells": cells, "tasks": tasks, "limits": {}}).encode()
    proc = subprocess.Popen([sys.executable, "-I", "-B", str(stage / "worker.py"), str(write_fd)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, pass_fds=(write_fd,))
    os.close(write_fd)
    proc.communicate(struct.pack("<Q", len(request)) + request + blob, timeout=60)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    frames = []
    while data:
        assert data[:4] == wire.MAGIC
        (hlen,) = struct.unpack("<I", data[4:8])
        header = json.loads(data[8:8 + hlen])
        (blen,) = struct.unpack("<Q", data[8 + hlen:16 + hlen])
        blob = data[16 + hlen:16 + hlen + blen]
        header["values"] = wire.decode_arrays(header.get("arrays", {}), blob)
        frames.append(header)
        data = data[16 + hlen + blen:]
    return frames


def test_worker_runs_cells_then_one_frame_per_task(tmp_path):
    cells = [{"name": "imports", "source": "import numpy as np\nimport matplotlib.pyplot as plt\n"},
             {"name": "sol_f", "source": "def f(x):\n    print('noise')\n    return 2 * x\n"}]
    tasks = [{"index": 0, "function": "f", "driver": "exec",
              "args": {"code": "result = f(np.arange(3.0))"}},
             {"index": 1, "function": "g", "driver": "exec", "args": {"code": "result = g(1)"}},
             {"index": 2, "function": "f", "driver": "exec", "args": {"code": "result = f(None)"}}]
    frames = run_worker(tmp_path, cells, tasks)
    assert [f["event"] for f in frames] == ["loaded", "task", "task", "task"]
    assert frames[1]["ok"] and np.array_equal(frames[1]["values"]["out"], [0.0, 2.0, 4.0])
    assert frames[2]["kind"] == "not_defined" and "g is not defined" in frames[2]["error"]
    assert frames[3]["kind"] == "exception" and frames[3]["error"].startswith("TypeError")


def test_worker_reports_the_cell_that_failed_to_load(tmp_path):
    cells = [{"name": "imports", "source": "import numpy as np\n"},
             {"name": "sol_f", "source": "import sys\nsys.exit(0)\n"}]
    frames = run_worker(tmp_path, cells, [])
    assert frames == [{"event": "load_error", "cell": "sol_f", "error": "SystemExit: 0", "values": {}}]


def test_read_frame_honours_its_deadline_and_reports_an_exit(tmp_path):
    """Plain-subprocess mode (no bwrap needed); the bwrap mode is tested in test_sandbox."""
    stage = toy_stage(tmp_path / "stage", FIXTURES / "probe_drivers.py")
    request = {"cells": [{"name": "sol", "source": "import os\nimport time\n"}],
               "tasks": [{"index": 0, "function": "time", "driver": "exec",
                          "args": {"code": "time.sleep(30)"}},
                         ], "limits": {}}
    limits = Limits(wall_seconds=20, task_seconds=5)
    with Sandbox(stage, request, b"", limits, use_bwrap=False) as sandbox:
        assert sandbox.read_frame(clock.monotonic() + 30)["event"] == "loaded"
        started = clock.monotonic()
        assert sandbox.read_frame(clock.monotonic() + 0.5) is None
        assert clock.monotonic() - started < 2
    request["tasks"][0]["args"]["code"] = "os._exit(3)"
    with Sandbox(stage, request, b"", limits, use_bwrap=False) as sandbox:
        sandbox.read_frame(clock.monotonic() + 30)
        with pytest.raises(SandboxEnded, match="exit code 3"):
            sandbox.read_frame(clock.monotonic() + 30)


def test_preflight_names_why_the_worker_cannot_start(tmp_path):
    good = toy_stage(tmp_path / "good", FIXTURES / "probe_drivers.py")
    preflight(good, Limits(), use_bwrap=False)  # no error
    broken = tmp_path / "broken_drivers.py"
    broken.write_text("import numpy_that_does_not_exist\n")
    stage = toy_stage(tmp_path / "broken", broken)
    with pytest.raises(SandboxUnavailable, match="No module named 'numpy_that_does_not_exist'"):
        preflight(stage, Limits(), use_bwrap=False)
