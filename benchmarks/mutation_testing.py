"""Mutation testing of the grader's checks (outside CI): `python benchmarks/mutation_testing.py`.

For every graded function (and gate class) of the reference library, each mutation operator
is applied, one site at a time, to the code between ``### BEGIN SOLUTION`` and ``### END
SOLUTION`` (the part a student writes); the mutant is graded in-process by the real checks
(`autograder.checks.tasks_for` / `run_in_process` / `evaluate`) on `SEEDS`. A mutant is
*killed* when it loses points on some seed (a check fails, or the function raises). The score
is killed / all. Survivors are printed with their line, to be shown equivalent (same values)
or killed by a new check; docs/mutation-score.md records the last run.

Operators (the usual ones for this code): ``swap_matmul`` (a @ b -> b @ a), ``drop_transpose``
(x.T -> x), ``sign`` (unary minus dropped; a - b -> a + b; a + b -> a - b), ``assign_for_add``
(x += y -> x = y), ``axis`` (axis=0 <-> axis=1, axis=-1 -> 0), ``drop_mean`` (a / N -> a, for
a divisor named N / n / len(...) / shape[0]), ``keepdims`` (keepdims=True -> False).

Usage: ``python benchmarks/mutation_testing.py [--seeds 2] [--function affine_backward]``.
Takes a few minutes on 2 cores (each mutant is graded like a submission, numerical gradients
of the reference included).
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib
import inspect
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import checks, registry  # noqa: E402

SEEDS = (0, 1)
OPERATORS = ("swap_matmul", "drop_transpose", "sign", "assign_for_add", "axis", "drop_mean", "keepdims")


def _solution_lines(source: str) -> set[int]:
    """1-based line numbers of `source` strictly between BEGIN and END SOLUTION markers."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _is_batch_divisor(node: ast.AST) -> bool:
    if isinstance(node, ast.Name) and node.id in ("N", "n", "N_rows", "batch"):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return True
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "shape")


class _Mutator(ast.NodeTransformer):
    """Applies mutation number `target` of operator `operator` (or counts the sites)."""

    def __init__(self, operator: str, lines: set[int], target: int = -1):
        self.operator, self.lines, self.target = operator, lines, target
        self.count = 0
        self.where: int | None = None

    def _hit(self, node: ast.AST) -> bool:
        if getattr(node, "lineno", None) not in self.lines:
            return False
        hit = self.count == self.target
        if hit:
            self.where = node.lineno
        self.count += 1
        return hit

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = self.operator
        if op == "swap_matmul" and isinstance(node.op, ast.MatMult) and self._hit(node):
            return ast.BinOp(node.right, ast.MatMult(), node.left)
        if op == "sign" and isinstance(node.op, (ast.Sub, ast.Add)) and self._hit(node):
            return ast.BinOp(node.left, ast.Add() if isinstance(node.op, ast.Sub) else ast.Sub(), node.right)
        if op == "drop_mean" and isinstance(node.op, ast.Div) and _is_batch_divisor(node.right) and self._hit(node):
            return node.left
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if self.operator == "sign" and isinstance(node.op, ast.USub) and self._hit(node):
            return node.operand
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if self.operator == "drop_transpose" and node.attr == "T" and self._hit(node):
            return node.value
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if self.operator == "assign_for_add" and isinstance(node.op, ast.Add) and self._hit(node):
            return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)
        if self.operator == "drop_mean" and isinstance(node.op, ast.Div) and _is_batch_divisor(node.value) \
                and self._hit(node):
            return ast.Pass(lineno=node.lineno)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        value = node.value
        if self.operator == "axis" and node.arg == "axis" and isinstance(value, ast.Constant) \
                and value.value in (0, 1, -1) and self._hit(value):
            return ast.keyword("axis", ast.Constant({0: 1, 1: 0, -1: 0}[value.value]))
        if self.operator == "keepdims" and node.arg == "keepdims" and isinstance(value, ast.Constant) \
                and value.value is True and self._hit(value):
            return ast.keyword("keepdims", ast.Constant(False))
        return node


def _namespace(module: str) -> dict:
    ns = dict(vars(importlib.import_module(f"backprop_lib.{module}")))
    if module == "mlp":
        ns.update(vars(importlib.import_module("backprop_lib.init")))
        ns.update(vars(importlib.import_module("backprop_lib.mlp")))
    return ns


def _killed(function: str, ns: dict, seeds: tuple[int, ...]) -> bool:
    for seed in seeds:
        runs: dict = {}
        for task in checks.tasks_for(function, np.random.default_rng(seed)):
            if id(task.args) not in runs:
                runs[id(task.args)] = checks.run_in_process(ns, task)
            if checks.evaluate(task, runs[id(task.args)]).fraction < 1.0:
                return True
    return False


def mutants(function: str):
    """(operator, site, line text, mutated namespace) for every mutation site of `function`."""
    module = registry.module_of()[function]
    obj = getattr(importlib.import_module(f"backprop_lib.{module}"), function)
    source = textwrap.dedent(inspect.getsource(obj))
    lines = _solution_lines(source)
    tree = ast.parse(source)
    for operator in OPERATORS:
        counter = _Mutator(operator, lines)
        counter.visit(copy.deepcopy(tree))
        for site in range(counter.count):
            mutator = _Mutator(operator, lines, site)
            mutated = ast.fix_missing_locations(mutator.visit(copy.deepcopy(tree)))
            ns = _namespace(module)
            exec(compile(mutated, f"<mutant {function} {operator} {site}>", "exec"), ns)  # noqa: S102
            text = source.splitlines()[mutator.where - 1].strip() if mutator.where else "?"
            yield operator, site, text, ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument("--function", action="append")
    args = parser.parse_args()
    seeds = tuple(range(args.seeds))
    functions = args.function or checks.known_functions()
    started = time.perf_counter()
    total = killed = 0
    survivors = []
    for function in functions:
        mine = kills = 0
        for operator, site, text, ns in mutants(function):
            mine += 1
            if _killed(function, ns, seeds):
                kills += 1
            else:
                survivors.append((function, operator, text))
        total, killed = total + mine, killed + kills
        print(f"{function:24s} {kills:3d} / {mine:3d} killed", flush=True)
    print(f"\nmutation score {killed} / {total} = {killed / max(total, 1):.3f} "
          f"({time.perf_counter() - started:.0f} s wall, seeds {list(seeds)})")
    for function, operator, text in survivors:
        print(f"SURVIVED {function} {operator}: {text}")


if __name__ == "__main__":
    main()
