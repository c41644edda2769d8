"""Everything that runs inside the sandbox, next to the student's code (untrusted side).

These modules import only the standard library, numpy and each other, never anything of the
grader; `autograder/sandbox/stage.py` copies every module of this folder into the stage.
"""
