"""Gradescope's autograder: the package builder, the script Gradescope runs, its results.json.

`package.py` builds `autograder.zip` (`python -m autograder gradescope <assignment>`), with
`setup.sh` and `run_autograder` (`scripts.py`) at its root; `run.py` is what `run_autograder`
executes for each submission: find the notebook (`submission.py`), close the grader's folders
to the sandbox's uid (`lockdown.py`), grade it through `autograder.pipeline`, write
`/autograder/results/results.json` (`results.py`).
"""
