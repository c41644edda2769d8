"""Developer tools that ship with the repository but not with the grader (e.g. `demo_class`)."""
