"""The lecturer's live demos: three notebooks in this folder and the code they import.

The notebooks are not assignments: nothing here is graded, released to students or read by
the grader (``courseware`` and ``autograder`` walk ``solutions/`` only). Each demo is a
``live.LiveFigure``: one matplotlib figure whose artists a plain ``set(**settings)`` call
updates in place, so pytest and ``benchmarks/lecture_redraw.py`` drive exactly the callbacks
the notebook's widgets call. All the math comes from ``backprop_lib``.

- ``gradient_flow``: vanishing and exploding gradients (``vanishing_exploding.ipynb``).
- ``momentum_bowl``: SGD with momentum on the ill-conditioned bowl (``momentum.ipynb``).
- ``circuits``: the lecture's worked computational graphs (``chain_rule.ipynb``).
"""
