"""The set-up promises of the README: pinned requirements, an equivalent environment.yml,
the two make commands, and a CI entry that calls the README's test command."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        m = re.match(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_every_requirement_is_pinned():
    lines = [l for l in (ROOT / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    assert lines, "requirements.txt is empty"
    unpinned = [l for l in lines if "==" not in l]
    assert not unpinned, f"unpinned requirements: {unpinned}"


def test_environment_yml_matches_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env_lines = (ROOT / "environment.yml").read_text().splitlines()
    pip_start = next(i for i, l in enumerate(env_lines) if l.strip() == "- pip:")
    env = _pins(env_lines[pip_start + 1:])
    assert env == req


def test_torch_only_in_benchmark_requirements():
    assert "torch" not in _pins((ROOT / "requirements.txt").read_text().splitlines())
    bench = _pins((ROOT / "benchmarks" / "requirements.txt").read_text().splitlines())
    assert bench.get("torch") == "2.13.0"


def test_readme_shows_the_two_commands_and_ci_calls_make_test():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:", makefile, re.M) and re.search(r"^demo:", makefile, re.M)
