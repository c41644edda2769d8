"""The cell-metadata rules of docs/notebook-format.md, checked on every solution notebook.

`sync` runs `validate_solution_notebook`, so a notebook that breaks the contract with the grader
fails `make notebooks` with a list of what to fix, instead of grading wrongly later.
"""
from __future__ import annotations

from nbformat import NotebookNode

from .errors import SourceError
from .notebooks import kit, nbgrader_meta


def _problems(nb: NotebookNode) -> list[str]:
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    import_cells = [i for i, c in enumerate(nb.cells) if kit(c).get("role") == "imports"]
    written = 0
    if len(import_cells) != 1:
        problems.append(f"needs exactly one import cell (kit.role 'imports'), found {len(import_cells)}")
    elif code_cells and import_cells[0] != code_cells[0]:
        problems.append(f"the import cell (cell {import_cells[0]}) must be the first code cell")
    for i, cell in enumerate(nb.cells):
        meta, k = nbgrader_meta(cell), kit(cell)
        where = f"cell {i}"
        grade_id = meta.get("grade_id")
        if grade_id:
            where = f"cell {i} ({grade_id})"
            if grade_id in seen_ids:
                problems.append(f"{where}: grade_id also used by cell {seen_ids[grade_id]}")
            seen_ids[grade_id] = i
        if "BEGIN SOLUTION" in cell.source and not meta.get("solution"):
            problems.append(f"{where}: has a solution region but is not an nbgrader solution cell")
        if k.get("role") == "imports":
            if not (meta.get("locked") and grade_id == "imports" and not meta.get("solution")):
                problems.append(f"{where}: the import cell needs nbgrader locked: true, grade_id 'imports'")
        if "source" in k:
            is_solution = meta.get("solution") and str(grade_id).startswith("sol_")
            is_given = meta.get("locked") and not meta.get("solution") and str(grade_id).startswith("given_")
            if cell.cell_type != "code" or not (is_solution or is_given):
                problems.append(
                    f"{where}: a kit.source cell must be a solution cell (grade_id 'sol_<name>') "
                    "or a locked given cell (grade_id 'given_<name>')"
                )
        if meta.get("grade") and cell.cell_type == "code":
            functions = k.get("functions")
            if not (isinstance(functions, list) and functions and all(isinstance(f, str) for f in functions)):
                problems.append(f"{where}: an autograded test cell needs kit.functions, a list of graded names")
            if not (meta.get("locked") and str(grade_id).startswith("test_")):
                problems.append(f"{where}: an autograded test cell needs locked: true and grade_id 'test_<name>'")
            if not (isinstance(meta.get("points"), (int, float)) and meta["points"] > 0):
                problems.append(f"{where}: an autograded test cell needs points > 0")
        if meta.get("grade") and cell.cell_type == "markdown":
            written += 1
            if not (meta.get("solution") and k.get("role") == "written" and str(grade_id).startswith("written_")):
                problems.append(f"{where}: a written answer needs solution: true, kit.role 'written', grade_id 'written_<name>'")
    if written == 0:
        problems.append("needs at least one manually graded written question (kit.role 'written')")
    return problems


def validate_solution_notebook(nb: NotebookNode, name: str) -> None:
    """Raise ValueError listing every way `nb` breaks docs/notebook-format.md.

    Args:
        nb: a solution notebook.
        name: how to name it in the message (its path).
    """
    problems = _problems(nb)
    if problems:
        raise SourceError(f"{name} breaks docs/notebook-format.md:\n  - " + "\n  - ".join(problems))
