"""A lecture notebook in a real JupyterLab in headless Chromium: Run All draws the figures,
moving a slider changes the figure on the page, and the console stays free of errors.

JupyterLab runs on a free loopback port with a token, from temporary config, data, runtime,
settings and workspace folders that turn off its news feed, update check and extension
manager (no network here), serving a temporary copy of the notebook (autosave must not write
outputs into the repository). The server, its kernels and Chromium are stopped at the end,
whatever happened. Skipped, with the reason, where Chromium or Playwright is missing.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NOTEBOOK = "chain_rule.ipynb"  # three figures, the quickest of the three to run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
                       reason=f"headless Chromium not found at {CHROMIUM}: install it "
                              "(apt-get install chromium, as .ci/run does) to run the browser tests"),
]

QUIET_LAB = {  # server side: no news feed, never ask PyPI for a newer JupyterLab
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
               "expose_app_in_browser": True},  # window.jupyterapp: wait for the kernel, run commands
}
KERNEL_READY = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'
        && window.jupyterapp.commands.isEnabled('notebook:run-all-cells'); }"""
ALL_RAN = """n => { const p = [...window.jupyterapp.shell.currentWidget.node
        .querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
    return p.length === n && p.every(t => /^\\[\\d+\\]:$/.test(t)); }"""
QUIET_SETTINGS = {  # front end: the same, no extension manager (it lists PyPI)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
    # start the notebook's own kernel (Python 3) without the "Select Kernel" dialog, and render
    # every cell (no windowing: a cell scrolled out of view still has its output in the page)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"autoStartDefaultKernel": True, "windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, method: str = "GET") -> object:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        body = response.read()
    return json.loads(body) if body else None


def _stop(server: subprocess.Popen, base: str, token: str) -> None:
    """Shut the kernels down, then the server (by its API, then by signal); always returns."""
    try:
        for kernel in _api(f"{base}/api/kernels?token={token}"):
            _api(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        _api(f"{base}/api/shutdown?token={token}", method="POST")
    except OSError:
        pass  # the server is already gone, or never came up
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(base_url, token)`` of a JupyterLab serving a copy of lectures/; stopped afterwards."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    served = tmp / "lectures"
    served.mkdir()
    shutil.copy(ROOT / "lectures" / NOTEBOOK, served / NOTEBOOK)
    dirs = {name: tmp / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir()
    for name in ("jupyter_server_config.json", "jupyter_lab_config.json"):
        (dirs["config"] / name).write_text(json.dumps(QUIET_LAB))
    for rel, value in QUIET_SETTINGS.items():
        (dirs["settings"] / rel).parent.mkdir(parents=True, exist_ok=True)
        (dirs["settings"] / rel).write_text(json.dumps(value))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_DATA_DIR": str(dirs["data"]),
           "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
           "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]), "IPYTHONDIR": str(dirs["ipython"]),
           "JUPYTER_PLATFORM_DIRS": "1", "PYTHONPATH": str(ROOT)}
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={served}", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _api(f"{base}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        _stop(server, base, token)
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
            headless=True, args=args, timeout=90_000, viewport={"width": 1600, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def test_run_all_then_a_slider_redraws_the_figure_without_console_errors(lab, browser, tmp_path):
    base, token = lab
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    n_code = page.locator(".jp-CodeCell").count()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")  # Run > Run All Cells
    images = page.locator(".jp-OutputArea-output img.widget-image")
    try:
        page.wait_for_function(ALL_RAN, arg=n_code, timeout=120_000, polling=500)
        images.nth(2).wait_for(state="visible", timeout=60_000)  # all three figures at the defaults
    except Exception:
        page.screenshot(path=str(tmp_path / "run-all.png"), full_page=True)
        print("screenshot:", tmp_path / "run-all.png", "console errors:", errors)
        raise
    assert images.count() == 3
    for k in range(3):
        page.wait_for_function("img => img.complete && img.naturalWidth > 600", arg=images.nth(k).element_handle(),
                               timeout=30_000)
    figure = images.nth(0)  # (x + y) z
    before_src, before_png = figure.get_attribute("src"), figure.screenshot()

    handle = page.locator(".widget-slider .noUi-handle").first  # the x slider of the first graph
    handle.focus()
    for _ in range(4):
        handle.press("ArrowRight")  # x: -2 -> 0
    page.wait_for_function("([img, src]) => img.src !== src && img.complete && img.naturalWidth > 600",
                           arg=[figure.element_handle(), before_src], timeout=30_000)
    after_png = figure.screenshot(path=str(tmp_path / "after.png"))
    assert after_png != before_png  # the pixels on the page changed, not only the URL
    readout = page.locator(".widget-slider .widget-readout").first.inner_text()
    assert readout.strip() == "0"
    page.close()
    assert errors == [], errors
