"""`sync`: rewrite generated cells of the solution notebooks from the library, normalize them.

A cell whose ``metadata.kit.source`` lists library objects (``"backprop_lib.gates:AddGate"``,
``module:qualname``, whole functions, classes or module-level assignments, in order) gets
exactly their source text, read from ``backprop_lib/<module>.py`` with `ast` (no import, so
a half-written module never runs), under a first line stamping the cell as generated.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from . import notebooks
from .errors import SourceError
from .layout import LIBRARY_PACKAGE, Layout
from .validation import validate_solution_notebook

STAMP_PREFIX = "# Generated from "
STAMP = STAMP_PREFIX + "{files} by `make notebooks`: edit the library, not this cell."


def parse_spec(spec: str) -> tuple[str, str]:
    """``"backprop_lib.gates:AddGate"`` -> (``"gates"``, ``"AddGate"``).

    Raises:
        ValueError: if `spec` is not ``backprop_lib.<module>:<qualname>``.
    """
    module, sep, qualname = str(spec).partition(":")
    package, dot, name = module.partition(".")
    if not (sep and dot and qualname and package == LIBRARY_PACKAGE and name.isidentifier()):
        raise SourceError(f"kit.source entry {spec!r} is not '{LIBRARY_PACKAGE}.<module>:<qualname>'")
    if not all(part.isidentifier() for part in qualname.split(".")):
        raise SourceError(f"kit.source entry {spec!r}: {qualname!r} is not a dotted name")
    return name, qualname


def _node_name(node: ast.stmt) -> list[str]:
    """The names a top-level statement defines (def, class, or assignment to plain names)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def library_source(spec: str, library: Path) -> tuple[str, str]:
    """The source text of one library object and the file it comes from.

    Args:
        spec: ``"backprop_lib.<module>:<qualname>"``.
        library: the ``backprop_lib`` directory.

    Returns:
        (source text, dedented, without trailing newline; ``"backprop_lib/<module>.py"``).

    Raises:
        ValueError: if the module file or the object does not exist.
    """
    module, qualname = parse_spec(spec)
    path = library / f"{module}.py"
    if not path.is_file():
        raise SourceError(f"kit.source entry {spec!r}: no file {path}")
    text = path.read_text(encoding="utf-8")
    body = ast.parse(text, filename=str(path)).body
    node: ast.stmt | None = None
    for part in qualname.split("."):
        node = next((n for n in body if part in _node_name(n)), None)
        if node is None:
            raise SourceError(f"kit.source entry {spec!r}: {path} defines no {qualname!r}")
        body = getattr(node, "body", [])
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    all_lines = text.splitlines()
    end = node.end_lineno
    # The AST ends at the last statement; the block's trailing comments (a closing
    # "### END SOLUTION" after a return) belong to it while they are indented deeper.
    indent = len(all_lines[start - 1]) - len(all_lines[start - 1].lstrip())
    while end < len(all_lines):
        line = all_lines[end]
        if line.strip() and not (line.lstrip().startswith("#") and len(line) - len(line.lstrip()) > indent):
            break
        end += 1
    lines = all_lines[start - 1 : end]
    return textwrap.dedent("\n".join(lines)).rstrip(), f"{LIBRARY_PACKAGE}/{module}.py"


def generated_source(specs: list[str], library: Path) -> str:
    """The full text of a generated cell: the stamp line, then each object, two blank lines apart."""
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) for s in specs):
        raise SourceError(f"kit.source must be a non-empty list of strings, got {specs!r}")
    parts, files = [], []
    for spec in specs:
        source, file = library_source(spec, library)
        parts.append(source)
        if file not in files:
            files.append(file)
    return STAMP.format(files=", ".join(files)) + "\n" + "\n\n\n".join(parts)


def sync_notebook(path: Path, library: Path, out: Path | None = None) -> bool:
    """Regenerate the `kit.source` cells of one solution notebook and normalize it.

    Args:
        path: ``solutions/<a>/<a>.ipynb``.
        library: the ``backprop_lib`` directory.
        out: where to write (default: `path` itself).

    Returns:
        True if the written file changed.

    Raises:
        ValueError: on a bad ``kit.source`` or metadata that breaks the contract.
    """
    nb = notebooks.read(path)
    for index, cell in enumerate(nb.cells):
        specs = notebooks.kit(cell).get("source")
        if specs is None:
            continue
        try:
            cell.source = generated_source(specs, library)
        except ValueError as err:
            raise SourceError(f"{path}: cell {index}: {err}") from err
    notebooks.normalize(nb)
    validate_solution_notebook(nb, str(path))
    return notebooks.write(nb, out or path)


def sync(layout: Layout, assignments: list[str], out_solutions: Path | None = None) -> list[Path]:
    """Sync the solution notebooks of `assignments`; return the files that changed.

    Args:
        layout: where solutions and the library are.
        assignments: assignment names (folders of ``solutions/``).
        out_solutions: write into this tree instead of ``solutions/`` (used by `check`).
    """
    changed = []
    for assignment in assignments:
        src = layout.solution_notebook(assignment)
        dst = (out_solutions / assignment / src.name) if out_solutions else src
        if sync_notebook(src, layout.library, dst):
            changed.append(dst)
    return changed
