"""Reading, normalizing and writing notebooks so that regeneration is byte-identical.

A normalized notebook has no outputs and no execution counts, only the cell metadata the kit
and nbgrader use, the same kernelspec on every machine, a deterministic id on every cell,
and is written as nbformat's JSON (sorted keys, one-space indent) ending in a newline.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .errors import SourceError

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}  # no version: it differs from machine to machine
CELL_METADATA_KEYS = ("nbgrader", "kit", "tags", "deletable", "editable")
NOTEBOOK_METADATA_KEYS = ("kit",)
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def read(path: Path) -> NotebookNode:
    """Read a notebook as nbformat v4.

    Raises:
        ValueError: if the file is not a readable notebook (the message names the file).
    """
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as err:  # nbformat raises several unrelated types for a bad file
        raise SourceError(f"{path}: not a readable notebook ({type(err).__name__}: {err})") from err


def dumps(nb: NotebookNode) -> str:
    """The notebook as stable JSON text (what `write` puts on disk)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write(nb: NotebookNode, path: Path) -> bool:
    """Write `nb` to `path` as stable JSON; return True if the file changed."""
    text = dumps(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def cell_id_for(cell: NotebookNode) -> str:
    """The deterministic id of a cell: its nbgrader ``grade_id``, else a hash of its source.

    A grade id keeps the id of solution, given and test cells stable while their text changes
    (the grader matches a student's cell by grade id, falling back to the cell id).
    """
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if grade_id:
        return _ID_CHARS.sub("-", str(grade_id))[:64]
    digest = hashlib.sha1(cell.source.encode("utf-8")).hexdigest()[:10]
    prefix = {"markdown": "md", "code": "code", "raw": "raw"}.get(cell.cell_type, "cell")
    return f"{prefix}-{digest}"


def assign_ids(nb: NotebookNode) -> None:
    """Give every cell its deterministic id, suffixing ``-2``, ``-3``... on duplicates."""
    seen: dict[str, int] = {}
    for cell in nb.cells:
        base = cell_id_for(cell)
        seen[base] = seen.get(base, 0) + 1
        cell["id"] = base if seen[base] == 1 else f"{base[:60]}-{seen[base]}"


def normalize(nb: NotebookNode, keep_ids: bool = False) -> NotebookNode:
    """Strip outputs, execution counts and volatile metadata in place; assign ids; return `nb`.

    Args:
        nb: an nbformat v4 notebook.
        keep_ids: keep the existing cell ids (the release keeps the ids of its solution
            notebook); cells without an id still get a deterministic one.
    """
    nb.nbformat, nb.nbformat_minor = 4, 5
    metadata = {k: nb.metadata[k] for k in NOTEBOOK_METADATA_KEYS if k in nb.metadata}
    metadata["kernelspec"] = dict(KERNELSPEC)
    metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.metadata = nbformat.from_dict(metadata)
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: cell.metadata[k] for k in CELL_METADATA_KEYS if k in cell.metadata})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
    if keep_ids:
        for cell in nb.cells:
            if not cell.get("id"):
                cell["id"] = cell_id_for(cell)
    else:
        assign_ids(nb)
    nbformat.validate(nb)
    return nb


def kit(cell: NotebookNode) -> dict:
    """The cell's ``metadata.kit`` (empty dict when absent)."""
    return cell.get("metadata", {}).get("kit", {}) or {}


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's ``metadata.nbgrader`` (empty dict when absent)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}
