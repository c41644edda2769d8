"""courseware: the release tooling of the course kit (solutions -> student release).

``python -m courseware sync|build|check [assignment ...]`` (``make notebooks`` = sync + build):

- `sync` (courseware.sync): rewrites every cell with ``metadata.kit.source`` in
  ``solutions/<a>/<a>.ipynb`` from ``backprop_lib`` (the one source of every solution) and
  normalizes the notebook (no outputs, deterministic cell ids, stable JSON).
- `build` (courseware.release): runs nbgrader's own ``generate_assignment`` in a temporary
  course directory and post-processes its output into ``notebooks/<a>/``.
- `check` (courseware.check): regenerates both into a temporary directory and lists every
  file that differs from what is committed.

See docs/authoring.md (how to write a solution notebook) and docs/notebook-format.md (the
contract with the library and the grader).
"""
