"""What the release tests inspect: solution regions, hidden-test lines, mutants, import closures.

Used by tests/courseware/test_solution_notebooks.py (generic over every ``solutions/<a>``); kept here so the
tests read as a list of promises and the mechanics are reusable from a shell.
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from .errors import SourceError
from .notebooks import kit, nbgrader_meta
from .release import enclosing_name

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_TRIVIAL = {"else:", "try:", "pass", "return", "continue", "break", "finally:", ")", "]", "}", "):"}


@dataclass(frozen=True)
class Region:
    """One solution region of a code text: marker line indices and the owner's name."""

    owner: str   # "AddGate.forward", "affine_backward"
    begin: int   # index of the BEGIN line
    end: int     # index of the END line

    @property
    def top_name(self) -> str:
        """The class or function a check label starts with (``AddGate`` for AddGate.forward)."""
        return self.owner.split(".")[0]


def regions(text: str, begin: str = BEGIN_SOLUTION, end: str = END_SOLUTION) -> list[Region]:
    """The marked regions of `text`, in order.

    Raises:
        ValueError: on an unclosed or nested region.
    """
    lines, found, start = text.split("\n"), [], None
    for i, line in enumerate(lines):
        if begin in line:
            if start is not None:
                raise SourceError(f"nested {begin!r} at line {i + 1}")
            start = i
        elif end in line:
            if start is None:
                raise SourceError(f"{end!r} without {begin!r} at line {i + 1}")
            found.append(Region(enclosing_name(lines, start) or "(cell)", start, i))
            start = None
    if start is not None:
        raise SourceError(f"{begin!r} at line {start + 1} is never closed")
    return found


def significant(line: str) -> bool:
    """A line worth scanning for: code, not a comment, a blank or a lone keyword / bracket."""
    s = line.strip()
    return bool(s) and not s.startswith("#") and s not in _TRIVIAL and len(s) >= 6


def marked_lines(texts: list[str], begin: str, end: str) -> set[str]:
    """Significant lines inside the marked regions of `texts`, minus lines also found outside them."""
    inside, outside = set(), set()
    for text in texts:
        lines = text.split("\n")
        in_region = [False] * len(lines)
        for r in regions(text, begin, end):
            for i in range(r.begin, r.end + 1):
                in_region[i] = True
        for line, flag in zip(lines, in_region):
            if significant(line) and begin not in line and end not in line:
                (inside if flag else outside).add(line.strip())
    return inside - outside


def solution_cells(nb: NotebookNode) -> list[NotebookNode]:
    """Generated solution cells (nbgrader ``solution`` with ``kit.source``), in order."""
    return [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution") and "source" in kit(c)]


def leaked_lines(release: NotebookNode, solution: NotebookNode) -> list[str]:
    """Solution-region and hidden-test lines of the solution notebook that appear in the release."""
    visible = [c.source for c in solution.cells]
    secret = marked_lines(visible, BEGIN_SOLUTION, END_SOLUTION) | marked_lines(visible, BEGIN_HIDDEN, END_HIDDEN)
    shown = {line.strip() for c in release.cells for line in c.source.split("\n")}
    return sorted(secret & shown)


NEGATE_HELPER = "_mutant_negate"
_NEGATE_SOURCE = f'''
def {NEGATE_HELPER}(value):
    """-value for numbers and arrays (logical not for booleans); first item of a tuple or list; values of a dict."""
    import numpy as _np
    if isinstance(value, dict):
        return {{key: {NEGATE_HELPER}(item) for key, item in value.items()}}
    if isinstance(value, (tuple, list)) and value:
        return type(value)([{NEGATE_HELPER}(value[0])] + list(value[1:]))
    if isinstance(value, (bool, _np.bool_)) or (isinstance(value, _np.ndarray) and value.dtype == bool):
        return _np.logical_not(value)
    try:
        return -value
    except TypeError:
        return value
'''.strip()


class _DropTranspose(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        return node.value if node.attr == "T" else node


def _sign_flips(body: str, limit: int = 3) -> list[str]:
    """Bodies with one value negated: the last return first, then the last assignments (up to `limit`).

    Several candidates, because negating some values changes nothing (a zero initial value).
    """
    statements = sorted((n for n in ast.walk(ast.parse(body)) if isinstance(n, (ast.Return, ast.Assign, ast.AugAssign))
                         and n.value is not None), key=lambda n: (not isinstance(n, ast.Return), -n.lineno))
    out = []
    for statement in statements[:limit]:
        tree = ast.parse(body)
        target = next(n for n in ast.walk(tree) if type(n) is type(statement) and n.lineno == statement.lineno
                      and n.col_offset == statement.col_offset)
        target.value = ast.Call(func=ast.Name(NEGATE_HELPER, ast.Load()), args=[target.value], keywords=[])
        out.append(ast.unparse(ast.fix_missing_locations(tree)))
    return out


def mutants(text: str) -> list[tuple[Region, str, list[str]]]:
    """(region, kind, candidate texts) for each solution region of a solution cell's text.

    Kinds: ``wrong_sign`` (a returned or assigned value negated) and, where the region
    transposes, ``missing_transpose`` (every ``.T`` dropped). Each candidate changes one region
    and defines the negation helper at the top of the cell. A region's wrong solution counts
    as caught when a public check catches any candidate of that kind.
    """
    lines = text.split("\n")
    found = []
    for region in regions(text):
        indent = lines[region.begin][: len(lines[region.begin]) - len(lines[region.begin].lstrip())]
        body = textwrap.dedent("\n".join(lines[region.begin + 1 : region.end]))
        kinds = [("wrong_sign", _sign_flips(body))]
        if any(isinstance(n, ast.Attribute) and n.attr == "T" for n in ast.walk(ast.parse(body))):
            kinds.append(("missing_transpose", [ast.unparse(_DropTranspose().visit(ast.parse(body)))]))
        for kind, bodies in kinds:
            texts = [_NEGATE_SOURCE + "\n\n\n" + "\n".join(lines[: region.begin + 1] + textwrap.indent(b, indent).split("\n")
                                                            + lines[region.end :]) for b in bodies]
            if texts:
                found.append((region, kind, texts))
    return found


def code_sources(nb: NotebookNode, replace: dict[str, str] | None = None) -> list[str]:
    """The code cells' sources, with cells whose grade_id is in `replace` swapped for its text."""
    replace = replace or {}
    return [replace.get(nbgrader_meta(c).get("grade_id"), c.source) for c in nb.cells if c.cell_type == "code"]


# ------------------------------------------------------------------------------ imports
def _imported_lib_modules(tree: ast.AST, package: str, relative_ok: bool) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level and relative_ok:
                found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
            elif node.module == package:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith(package + "."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith(package + "."))
    return found


def import_closure(sources: list[str], library: Path) -> set[str]:
    """Every `backprop_lib` module the code imports, directly or through the library's own imports."""
    from IPython.core.inputtransformer2 import TransformerManager

    package = library.name
    transformer = TransformerManager()
    todo: list[str] = []
    for source in sources:
        todo += _imported_lib_modules(ast.parse(transformer.transform_cell(source)), package, relative_ok=False)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        path = library / f"{module}.py"
        if module in seen or not path.is_file():
            continue
        seen.add(module)
        todo += _imported_lib_modules(ast.parse(path.read_text(encoding="utf-8")), package, relative_ok=True)
    return seen
