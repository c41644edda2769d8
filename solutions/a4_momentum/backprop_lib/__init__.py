# Generated for a4_momentum from backprop_lib/__init__.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""backprop_lib: the course kit's reference numpy library for backpropagation.

Modules (import them directly, e.g. ``from backprop_lib.layers import affine_forward``):
gates, graph, layers, gradcheck, init, mlp, optim, diagnostics, plots, checks, data, validate.
This file imports no submodule on purpose: the grader's sandbox exposes only the modules an
assignment may use.
"""

__version__ = "0.1.0"
