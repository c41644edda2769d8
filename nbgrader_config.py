"""nbgrader's configuration for TAs running nbgrader's own commands from the project root.

The course directory is this repository: the instructor's source notebooks are `solutions/`,
the student release is `notebooks/`. Generate the release with `make notebooks` (nbgrader's
generate_assignment plus the kit's post-processing: TASK messages in the stubs, stamps), not
with a bare `nbgrader generate_assignment`, whose output `make notebooks` would overwrite.
`nbgrader release_assignment <a> --course <id>` releases `notebooks/<a>/` whole (the notebook
and its generated `backprop_lib/`). Collect with `python -m courseware collect` (nbgrader's
collect follows links students plant in `inbound/`) and grade with `python -m autograder grade`
(see README). Formgrader works with this file, for the written answers; plain
`nbgrader autograde` runs student code with the TA's rights: its grades are never used. Both
keep their gradebook and student folders under `out/` (git-ignored), never in the repository.
"""
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

_ROOT = os.path.dirname(os.path.abspath(__file__))
_OUT = os.path.join(_ROOT, "out", "nbgrader")
os.makedirs(_OUT, exist_ok=True)  # sqlite does not create the gradebook's folder

c.CourseDirectory.root = _ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("out", "nbgrader", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("out", "nbgrader", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("out", "nbgrader", "feedback")
c.CourseDirectory.solution_directory = os.path.join("out", "nbgrader", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_OUT, "gradebook.db")
# nbgrader's generate_feedback shows hidden tests (nbgrader#917): the kit's feedback comes
# from `python -m autograder grade`, never from nbgrader's feedback command.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
