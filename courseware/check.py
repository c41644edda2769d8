"""`check`: regenerate solutions and releases in a temporary folder and diff with the repository.

CI runs it (tests/courseware/test_release_pipeline.py): a commit whose notebooks were not regenerated
after a library or solution edit fails, with the list of files to regenerate.
"""
from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from .layout import Layout
from .release import build
from .sync import sync


def _files(tree: Path) -> set[str]:
    return {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file() and "__pycache__" not in p.parts} if tree.is_dir() else set()


def _diff_tree(expected: Path, committed: Path, label: str) -> list[str]:
    """Lines naming every file that is missing, extra or different in `committed`."""
    problems = []
    want, have = _files(expected), _files(committed)
    for rel in sorted(want - have):
        problems.append(f"missing  {label}/{rel}")
    for rel in sorted(have - want):
        problems.append(f"extra    {label}/{rel}")
    for rel in sorted(want & have):
        if not filecmp.cmp(expected / rel, committed / rel, shallow=False):
            problems.append(f"differs  {label}/{rel}")
    return problems


def check(layout: Layout, assignments: list[str]) -> list[str]:
    """Regenerate `assignments` into a temporary folder; return the differences (empty: clean).

    Compares ``solutions/<a>/`` with its synced copy and ``notebooks/<a>/`` with a fresh build.
    """
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="courseware-check-") as tmp:
        solutions, releases = Path(tmp) / "solutions", Path(tmp) / "notebooks"
        for assignment in assignments:
            shutil.copytree(layout.solutions / assignment, solutions / assignment,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        sync(layout, assignments, out_solutions=solutions)
        build(layout, assignments, out_notebooks=releases, solutions=solutions)
        for assignment in assignments:
            problems += _diff_tree(solutions / assignment, layout.solutions / assignment, f"solutions/{assignment}")
            problems += _diff_tree(releases / assignment, layout.notebooks / assignment, f"notebooks/{assignment}")
    if set(assignments) == set(layout.assignments()) and layout.notebooks.is_dir():
        for stray in sorted(p.name for p in layout.notebooks.iterdir() if p.is_dir() and p.name not in assignments):
            problems.append(f"extra    notebooks/{stray}/ (no solutions/{stray}/{stray}.ipynb)")
    return problems
