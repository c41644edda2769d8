"""`OUT/nbgrader_config.py`: nbgrader's configuration for the TA, so that `cd OUT && nbgrader
formgrader` opens the gradebook our grader wrote (`formgrader.write_autograded` calls it).

The course root is OUT; `submitted_directory` points at an empty folder on purpose (nbgrader's
autograde would run student code outside the sandbox).
"""
from __future__ import annotations

import re
from pathlib import Path

from ..pipeline.results import write_atomic

CONFIG_NAME = "nbgrader_config.py"

CONFIG_TEMPLATE = '''\
"""nbgrader's configuration for the TA: written by `python -m autograder grade`.

    cd {out_name} && nbgrader formgrader      (or open JupyterLab here: Nbgrader > Formgrader)

The course root is this folder: the gradebook `gradebook.db` holds our autograder's scores (from
the sandbox), `autograded/<student>/<assignment>/<assignment>.ipynb` the students' notebooks
with the source's test cells and no outputs. Grade the written answers in formgrader; running
`python -m autograder grade` into this folder again keeps the manual grades.

Do not use formgrader's or nbgrader's "autograde" or "generate feedback" here: autograde runs
student code outside the sandbox (so `submitted_directory` below points at an empty folder on
purpose), and nbgrader's feedback shows hidden tests; the students' feedback is `feedback/`.
The notebooks in `autograded/` hold the hidden tests too: they are for the TA only.
"""
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = _ROOT
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_ROOT, "gradebook.db")
c.CourseDirectory.source_directory = {solutions!r}
c.CourseDirectory.autograded_directory = "autograded"
# not the class's submissions ({submitted!r}): see above
c.CourseDirectory.submitted_directory = "nbgrader_submitted_unused"
c.CourseDirectory.release_directory = "nbgrader_release"
c.CourseDirectory.solution_directory = "nbgrader_solution"
c.CourseDirectory.feedback_directory = "nbgrader_feedback"
'''


def write_nbgrader_config(out_dir: Path, solutions_dir: Path,
                          submitted_dir: Path | None = None) -> Path:
    """Write `OUT/nbgrader_config.py` (atomically) and return its path."""
    out_dir = Path(out_dir)
    name = out_dir.resolve().name
    text = CONFIG_TEMPLATE.format(out_name=name if re.fullmatch(r"[\w.-]+", name) else "OUT",
                                  solutions=str(Path(solutions_dir).resolve()),
                                  submitted=str(Path(submitted_dir).resolve()) if submitted_dir
                                  else "SUBMITTED")
    path = out_dir / CONFIG_NAME
    write_atomic(path, text)
    return path
