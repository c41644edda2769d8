"""One notebook's path through the grader: discover -> load -> plan -> sandbox run -> check -> results.

`discover` finds the (student, assignment) jobs, `notebook` loads the trusted source and the
student's cells, `grade` plans one notebook's tasks and runs them in a sandbox, `run` grades the
class in parallel, `results` writes grades.csv and the per-notebook JSON. Trusted side.
"""
