"""A student's fetched folders in a real JupyterLab, in headless Chromium: Run All Cells, then no
error output and the figures on the page.

JupyterLab serves the student's home (the folders `nbgrader fetch_assignment` wrote, with the
work done), not the project root, from a process with no PYTHONPATH and its own Jupyter config,
data, runtime and settings folders (news and update checks off, every cell rendered), on a free
loopback port. Two assignments: a1_gates (the graph drawings) and a4_momentum (the digits from
the folder's own package, the momentum plots). Jupyter and Chromium are always stopped.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from courseware import notebooks
from courseware.layout import Layout
from courseware.student_folder import completed_notebook

LAYOUT = Layout()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOWN = ("a1_gates", "a4_momentum")
KERNEL_READY = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
        && window.jupyterapp.commands.isEnabled('notebook:run-all-cells'); }"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"headless Chromium not found at {CHROMIUM}: "
                                                          "apt-get install chromium (.ci/run does)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_jupyter_dirs(base: Path, home: Path, port: int, token: str) -> dict[str, str]:
    """Config, data, runtime and settings folders of this JupyterLab only; returns the env vars."""
    dirs = {name: base / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
                      "root_dir": str(home), "token": token, "allow_root": os.geteuid() == 0},
        "IdentityProvider": {"token": token},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "expose_app_in_browser": True},  # window.jupyterapp: run the menu's command
    }))
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    tracker = dirs["settings"] / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), JUPYTER_PLATFORM_DIRS="1")
    return env


@pytest.fixture(scope="module")
def lab(exchange, tmp_path_factory):
    """(base URL with token, the student's home) of a JupyterLab serving bob's fetched folders."""
    for a in SHOWN:
        folder = exchange.fetch("bob", a)
        path = folder / f"{a}.ipynb"
        notebooks.write(completed_notebook(notebooks.read(path), notebooks.read(LAYOUT.solution_notebook(a))), path)
    home = exchange.student_home("bob")
    port, token = free_port(), secrets.token_hex(16)
    env = write_jupyter_dirs(tmp_path_factory.mktemp("jupyter"), home, port, token)
    log = (tmp_path_factory.mktemp("jupyter-log") / "lab.log").open("w")
    server = subprocess.Popen([str(Path(sys.executable).parent / "jupyter"), "lab"], cwd=home, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + Path(log.name).read_text()[-3000:])
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token, home
    finally:
        stop(server)
        log.close()


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (it and its kernels), SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(server.pid, signal.SIGKILL)  # kernels left in the group
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=args, timeout=90_000, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def run_all(page, url: str, path: Path, n_code: int) -> None:
    """Open `url`, wait for the kernel, Run All Cells, wait until every code cell ran, save."""
    page.goto(url, wait_until="domcontentloaded", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    page.wait_for_function(KERNEL_READY,
                           timeout=60_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # Run > Run All Cells
    page.wait_for_function(
        """n => { const p = [...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                  .map(e => e.textContent.trim());
                  return p.length === n && p.every(t => /^\\[\\d+\\]:$/.test(t)); }""",
        arg=n_code, timeout=120_000, polling=500)
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        saved = notebooks.read(path)
        if all(c.get("execution_count") for c in saved.cells if c.cell_type == "code"):
            return
        time.sleep(0.5)
    pytest.fail(f"{path.name} was not saved with every cell run")


@pytest.mark.parametrize("a", SHOWN)
def test_fetched_folder_runs_all_in_jupyterlab_with_its_figures(a, lab, browser):
    base, token, home = lab
    path = home / a / f"{a}.ipynb"
    n_code = sum(c.cell_type == "code" for c in notebooks.read(path).cells)
    page = browser.new_page()
    start = time.perf_counter()
    try:
        run_all(page, f"{base}/lab/tree/{a}/{a}.ipynb?reset&token={token}", path, n_code)
        images = page.evaluate("[...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-OutputArea-output img')]"
                               ".map(i => [i.complete, i.naturalWidth])")
        errors_shown = page.evaluate("window.jupyterapp.shell.currentWidget.node.querySelectorAll("
                                     "\"[data-mime-type='application/vnd.jupyter.stderr']\").length")
        page.screenshot(path=str(home / f"{a}.png"))
    finally:
        page.close()
    print(f"{a}: Run All in JupyterLab, {n_code} code cells, {time.perf_counter() - start:.1f} s, {len(images)} figures")
    saved = notebooks.read(path)
    outputs = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert errors_shown == 0
    assert sum("image/png" in o.get("data", {}) for o in outputs) == len(images) > 0
    assert all(complete and width > 100 for complete, width in images), images
    text = "".join(o.get("text", "") for o in outputs)
    assert "PASS" in text and "FAIL" not in text
