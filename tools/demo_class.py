"""A synthetic class of submissions, for demos, tests and the throughput benchmark.

`build_class(submitted_dir, n=30, seed=0)` writes nbgrader's submitted layout,
`submitted_dir/<student_id>/<assignment>/<assignment>.ipynb`, for every assignment in
`solutions/`, and returns what each student is meant to show:

| kind | the notebook |
| --- | --- |
| `correct` | the solution notebook as a student would hand it in (no solution markers, no hidden tests) |
| `mistake:<name>` | the correct one with ONE solution region mutated into a classic mistake (`MUTATIONS`) |
| `partial` | half of the solution regions kept, the others stubs that raise NotImplementedError |
| `unfinished` | the student release from `notebooks/` (every stub still raises NotImplementedError) |
| `broken_json` | a file cut in half: not a notebook at all |
| `syntax_error` | the correct one with a syntax error at the top of a solution cell |
| `missing` | a student folder without any notebook |
| `cheat` | every mutation of `MUTATIONS` that applies at once, plus code that patches `numpy.allclose` and friends and turns every `backprop_lib.checks` helper into a no-op (again before every cell, by an IPython hook); test cells emptied and their `points` metadata raised to 100 |

A named mistake that has nothing to mutate in an assignment (no `.T` in a1's gates, say) falls
back to the next mutation in `MUTATIONS` that applies; pass `applied={}` to see, per student and
assignment, what was written. It only reads `solutions/` and `notebooks/`, so it works with
whatever assignments exist.
"""
from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path

import nbformat
import numpy as np

from autograder.pipeline.results import write_atomic

ROOT = Path(__file__).resolve().parents[1]

# name -> alternatives (pattern, replacement), tried in order; applied once, to one solution region.
MUTATIONS: dict[str, list[tuple[str, str]]] = {
    "missing_transpose": [(r"\b(\w+)\.T @ ", r"\1 @ "), (r"@ (\w+)\.T\b", r"@ \1")],
    "wrong_sign": [
        (r"^([ \t]*)(d(?:x|W|b|z|s|pred|scores|out|Y|A|Z)\w*) = (?!=)([^\n,]+)$", r"\1\2 = -(\3)"),
        (r"^([ \t]*)(upstream|grads\[[^\]\n]+\]) = (?!=)([^\n,]+)$", r"\1\2 = -(\3)"),
        (r"^([ \t]*)return \(([^\n]+),\)$", r"\1return (-(\2),)"),
        (r"^([ \t]*)(next_w) = (\w+) - ", r"\1\2 = \3 + "),
    ],
    "missing_mean": [(r"\s*/\s*N\b", ""), (r"\s*/\s*\w+\.shape\[0\]", "")],
    "ignored_upstream": [(r"\s*\*\s*dout\b", ""), (r"\bdout\s*\*\s*", ""), (r"\s*\*\s*dz\b", "")],
    "bias_not_summed": [(r"^([ \t]*(?:db\w*|grads\[f?\"b[^\n]*?\"\])\s*=\s*)(\w+)\.sum\(axis=0\)", r"\1\2")],
    "wrong_reg_factor": [(r"\b2(?:\.0)?\s*\*\s*reg\s*\*\s*", "reg * ")],
    "momentum_order": [(r"^([ \t]*)(v = [^\n]+)\n(\s*)(next_w = [^\n]+)$", r"\3\4\n\1\2")],
    "activation_not_preactivation": [
        (r"\(1\.0 - (\w+)\) \* \1\b", r"(1.0 - 1.0 / (1.0 + np.exp(-\1))) * (1.0 / (1.0 + np.exp(-\1)))"),
        (r"\(1\.0 - (\w+)\*\*2\)", r"(1.0 - np.tanh(\1)**2)"),
    ],
}

CHEAT_CODE = """import numpy as np
import numpy.testing
# a cheat: make every comparison succeed ...
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
# ... and every public check helper pass without calling anything
try:
    import backprop_lib.checks as _checks
    for _name in dir(_checks):
        if not _name.startswith("_") and callable(getattr(_checks, _name)):
            setattr(_checks, _name, lambda *args, **kwargs: True)
except ImportError:
    pass
for _name in list(globals()):
    if _name.startswith("check") and callable(globals()[_name]):
        globals()[_name] = lambda *args, **kwargs: True
# ... and keep doing so before every later cell, through an IPython hook
try:
    def _patch_checks(*_args):
        for _key, _value in list(get_ipython().user_ns.items()):
            if _key.startswith("check") and callable(_value):
                get_ipython().user_ns[_key] = lambda *args, **kwargs: True
    get_ipython().events.register("pre_run_cell", _patch_checks)
except NameError:
    pass
"""

_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.M | re.S)
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)


def _is_solution_code(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def as_submitted(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solution notebook as a student hands it in: markers dropped, hidden tests gone."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if _is_test(cell):
            cell.source = _HIDDEN.sub("", cell.source)
        cell.source = _REGION.sub(lambda m: m.group(2), cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def stubbed(nb: nbformat.NotebookNode, assignment: str, keep: set[int] = frozenset()) -> nbformat.NotebookNode:
    """The solution notebook with every solution region but those numbered in `keep` a stub."""
    nb = copy.deepcopy(nb)
    counter = iter(range(10**6))

    def stub(m: re.Match) -> str:
        if next(counter) in keep:
            return m.group(2)
        return f'{m.group(1)}raise NotImplementedError("{assignment}: write this part")\n'

    for cell in nb.cells:
        if _is_solution_code(cell):
            cell.source = _REGION.sub(stub, cell.source)
    return as_submitted(nb)


def count_regions(nb: nbformat.NotebookNode) -> int:
    """Number of solution regions in the notebook's solution code cells."""
    return sum(len(_REGION.findall(c.source)) for c in nb.cells if _is_solution_code(c))


def graded_names(nb: nbformat.NotebookNode) -> set[str]:
    """The functions and classes the notebook's autograded cells grade (their `kit.functions`)."""
    return {str(f) for c in nb.cells if _is_test(c) for f in c.metadata.get("kit", {}).get("functions", [])}


def _enclosing_name(source: str, pos: int) -> str | None:
    """The top-level function or class whose body holds position `pos` of `source`."""
    names = re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", source[:pos], re.M)
    return names[-1] if names else None


def mutate(nb: nbformat.NotebookNode, name: str, rng: np.random.Generator) -> nbformat.NotebookNode | None:
    """A copy of the solution notebook, as submitted, with one region mutated by `MUTATIONS[name]`
    (None when nothing matches).

    Only regions inside a graded function or class (`graded_names`) are mutated; among those
    where the first applicable alternative matches, one is picked with `rng`.
    """
    out = _mutate_marked(nb, name, rng)
    return None if out is None else as_submitted(out)


def _mutate_marked(nb: nbformat.NotebookNode, name: str, rng: np.random.Generator) -> nbformat.NotebookNode | None:
    """`mutate`, keeping the solution markers (so mutations can be stacked)."""
    if name not in MUTATIONS:
        raise ValueError(f"unknown mutation {name!r}; known: {sorted(MUTATIONS)}")
    graded = graded_names(nb)
    for pattern, replacement in MUTATIONS[name]:
        regex = re.compile(pattern, re.M)
        spots = [(i, m) for i, cell in enumerate(nb.cells) if _is_solution_code(cell)
                 for m in _REGION.finditer(cell.source) if regex.search(m.group(2))
                 and _enclosing_name(cell.source, m.start()) in graded]
        if not spots:
            continue
        i, m = spots[int(rng.integers(len(spots)))]
        out = copy.deepcopy(nb)
        body = regex.sub(replacement, m.group(2), count=1)
        source = nb.cells[i].source
        out.cells[i].source = source[:m.start(2)] + body + source[m.end(2):]
        return out
    return None


def _cheat(solution: nbformat.NotebookNode, rng: np.random.Generator) -> nbformat.NotebookNode:
    """Wrong code that fools tests: every mutation that applies, plus the patches of CHEAT_CODE,
    test cells emptied and points raised. Its functions run (they are not stubs), so a grader
    that trusts numpy or the check helpers inside the student's process gives it marks."""
    nb = solution
    for name in MUTATIONS:
        nb = _mutate_marked(nb, name, rng) or nb
    nb = as_submitted(nb)
    first = next((c for c in nb.cells if _is_solution_code(c)), None)
    if first is not None:
        first.source = CHEAT_CODE + "\n" + first.source
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["nbgrader"]["points"] = 100
        if _is_test(cell):
            cell.source = "print('all tests passed')"
    return nb


def _release(assignment: str, solution: nbformat.NotebookNode, notebooks_dir: Path) -> nbformat.NotebookNode:
    path = notebooks_dir / assignment / f"{assignment}.ipynb"
    if path.is_file():
        return nbformat.read(path, as_version=4)
    return stubbed(solution, assignment)


def class_plan(n: int, seed: int = 0) -> dict[str, str]:
    """Student id -> kind for a class of `n`: every kind at least once (when n allows), the
    rest mostly correct or with a named mistake."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    names = list(MUTATIONS)
    base = ["correct", f"mistake:{names[0]}", "unfinished", "broken_json", "missing", "cheat",
            "syntax_error", "partial"]
    kinds = base[:n]
    choices, weights = ["correct", "mistake", "partial", "unfinished"], [0.45, 0.35, 0.12, 0.08]
    mistakes = iter(names[1:] + names * n)
    while len(kinds) < n:
        kind = choices[int(rng.choice(len(choices), p=weights))]
        kinds.append(f"mistake:{next(mistakes)}" if kind == "mistake" else kind)
    order = rng.permutation(n)
    width = max(3, len(str(n)))
    return {f"s{i + 1:0{width}d}": kinds[j] for i, j in enumerate(order)}


def _notebook_for(kind: str, assignment: str, solution, release, rng) -> tuple[str | None, str]:
    """(file text or None for no file, the kind actually written)."""
    if kind == "missing":
        return None, kind
    if kind == "broken_json":
        text = nbformat.writes(as_submitted(solution))
        return text[: len(text) // 2], kind
    if kind == "unfinished":
        return nbformat.writes(release), kind
    if kind == "cheat":
        return nbformat.writes(_cheat(solution, rng)), kind
    if kind == "partial":
        regions = count_regions(solution)
        keep = set(rng.choice(regions, size=regions // 2, replace=False).tolist()) if regions > 1 else set()
        return nbformat.writes(stubbed(solution, assignment, keep)), kind
    if kind == "syntax_error":
        nb = as_submitted(solution)
        cell = next((c for c in nb.cells if _is_solution_code(c)), None)
        if cell is not None:
            cell.source = "def broken(:\n    pass\n\n" + cell.source
        return nbformat.writes(nb), kind
    if kind.startswith("mistake:"):
        names = list(MUTATIONS)
        first = kind.split(":", 1)[1]
        for name in [first] + [m for m in names if m != first]:
            nb = mutate(solution, name, rng)
            if nb is not None:
                return nbformat.writes(nb), f"mistake:{name}"
        return nbformat.writes(release), "unfinished"
    if kind == "correct":
        return nbformat.writes(as_submitted(solution)), kind
    raise ValueError(f"unknown kind {kind!r}")


def build_class(submitted_dir: Path, n: int = 30, seed: int = 0, *,
                solutions_dir: Path | None = None, notebooks_dir: Path | None = None,
                applied: dict | None = None) -> dict[str, str]:
    """Write a synthetic class of `n` students in nbgrader's submitted layout.

    Args:
        submitted_dir: e.g. `course/submitted`; created when missing.
        n: number of students (ids `s001`, `s002`, ...).
        seed: fixes who gets which kind and which region each mistake mutates.
        solutions_dir, notebooks_dir: the source notebooks and the student release (default:
            the project's `solutions/` and `notebooks/`).
        applied: when given, filled with `{student_id: {assignment: kind written}}`.

    Returns:
        Student id -> the kind planned for that student (see the module docstring).

    Raises:
        ValueError: `n` < 1, or no assignment in `solutions_dir`.
    """
    solutions_dir = Path(solutions_dir or ROOT / "solutions")
    notebooks_dir = Path(notebooks_dir or ROOT / "notebooks")
    assignments = sorted(p.parent.name for p in solutions_dir.glob("*/*.ipynb") if p.stem == p.parent.name)
    if not assignments:
        raise ValueError(f"no source notebooks <a>/<a>.ipynb in {solutions_dir}")
    plan = class_plan(n, seed)
    rng = np.random.default_rng([seed, 1])
    sources = {}
    for a in assignments:
        solution = nbformat.read(solutions_dir / a / f"{a}.ipynb", as_version=4)
        sources[a] = (solution, _release(a, solution, notebooks_dir))
    submitted_dir = Path(submitted_dir)
    for sid, kind in plan.items():
        (submitted_dir / sid).mkdir(parents=True, exist_ok=True)
        for a, (solution, release) in sources.items():
            text, written = _notebook_for(kind, a, solution, release, rng)
            if text is not None:
                write_atomic(submitted_dir / sid / a / f"{a}.ipynb", text)
            if applied is not None:
                applied.setdefault(sid, {})[a] = written
    return plan


def main(argv: list[str] | None = None) -> int:
    """`python -m tools.demo_class SUBMITTED [--n N] [--seed S]`: build a class, print the plan."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("submitted", type=Path)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    applied: dict = {}
    build_class(args.submitted, args.n, args.seed, applied=applied)
    plan = args.submitted.parent / "class_plan.json"
    write_atomic(plan, json.dumps(applied, indent=1, sort_keys=True) + "\n")
    kinds = Counter(kind.split(":")[0] for per in applied.values() for kind in per.values())
    print(f"built a class of {len(applied)} students in {args.submitted}: "
          + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
          + f" notebooks (who got what: {plan})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
