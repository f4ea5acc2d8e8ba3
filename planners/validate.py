"""Independent plan validation with unified-planning's sequential plan validator.

Plans found by the project's own planner (and by evolved heuristics guiding it) must be
checked by code that shares nothing with that planner: a bug in our grounding or successor
generation would otherwise certify its own wrong plans. unified-planning parses the PDDL
with its own reader and simulates the plan with its own semantics.

Names in IPC plans are matched case-insensitively; a name unified-planning spelled
differently from the file (``-`` versus ``_``) is still found. Every failure says why: an
unreadable line, an unknown action or object, a wrong arity or argument type, the first
inapplicable step with its unsatisfied preconditions, or the goals left unsatisfied.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PlanValidator", "ValidationResult", "parse_plan_lines", "validate_plan"]

_LINE = re.compile(r"^\(\s*([^\s()]+)((?:\s+[^\s()]+)*)\s*\)$")


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of validating one plan.

    Attributes
    ----------
    valid : bool
        Whether the plan is executable from the initial state and reaches the goal.
    cost : float or None
        Plan cost for valid plans: the task's action-cost metric if it has one, else the
        number of steps. None for invalid plans.
    reason : str
        ``"valid"`` or a one-line explanation of the first problem found.
    step : int or None
        1-based index (among plan steps, comments excluded) of the offending step, if any.
    """

    valid: bool
    cost: float | None
    reason: str
    step: int | None = None

    def __bool__(self) -> bool:
        return self.valid


def _up():
    """Import unified-planning lazily (about a second) and silence its credits banner."""
    import unified_planning as up
    from unified_planning.shortcuts import get_environment

    get_environment().credits_stream = None
    return up


def parse_plan_lines(plan: Sequence[str] | str | os.PathLike[str]) -> list[tuple[str, list[str]]]:
    """IPC plan lines as ``(action, [args])``, lower-cased; comments and blanks skipped.

    Parameters
    ----------
    plan : sequence of str, or str / os.PathLike
        Plan lines (an element may hold several lines), plan text (a string that starts with
        ``(`` or ``;`` or spans several lines), or the path of a plan file.

    Returns
    -------
    list of (str, list of str)

    Raises
    ------
    ValueError
        For a line that is not ``(name arg ...)``, naming its step number.
    """
    if isinstance(plan, str) and ("\n" in plan or plan.lstrip().startswith(("(", ";"))):
        raw: Iterable[str] = plan.splitlines()  # plan text, not a path
    elif isinstance(plan, str | os.PathLike):
        raw = Path(plan).read_text(encoding="utf-8-sig").splitlines()
    else:
        raw = (ln for item in plan for ln in str(item).splitlines())
    steps: list[tuple[str, list[str]]] = []
    for line in raw:
        text = line.split(";", 1)[0].strip()
        if not text:
            continue
        m = _LINE.match(text)
        if m is None:
            raise ValueError(f"step {len(steps) + 1}: cannot read plan line {line.strip()!r}")
        steps.append((m.group(1).lower(), m.group(2).lower().split()))
    return steps


def _variants(name: str) -> tuple[str, ...]:
    return (name, name.replace("-", "_"), name.replace("_", "-"))


class PlanValidator:
    """Validator for one task, parsed once and reused for many plans.

    Parsing PDDL with unified-planning is slow (seconds for large tasks), so code that
    validates many plans for the same task (e.g. every candidate heuristic's plan) should
    keep one instance.

    Parameters
    ----------
    domain_path, problem_path : str or os.PathLike
        PDDL domain and problem files.

    Raises
    ------
    ValueError
        If unified-planning cannot read the domain or problem (a broken task is not an
        invalid plan, so it is not reported as one).
    """

    def __init__(
        self, domain_path: str | os.PathLike[str], problem_path: str | os.PathLike[str]
    ) -> None:
        up = _up()
        from unified_planning.io import PDDLReader

        try:
            self.problem = PDDLReader().parse_problem(str(domain_path), str(problem_path))
        except Exception as exc:  # pyparsing and UP raise many kinds
            raise ValueError(
                f"unified-planning cannot read {domain_path} / {problem_path}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self._actions = {}
        for a in self.problem.actions:
            for v in _variants(a.name.lower()):
                self._actions.setdefault(v, a)
        self._objects = {}
        for o in self.problem.all_objects:
            for v in _variants(o.name.lower()):
                self._objects.setdefault(v, o)
        self._em = self.problem.environment.expression_manager
        self._up = up

    def _lookup(self, table: dict, name: str):
        for v in _variants(name):
            if v in table:
                return table[v]
        return None

    def validate(self, plan: Sequence[str] | str | os.PathLike[str]) -> ValidationResult:
        """Validate a plan given as IPC lines, plan text or a plan file path.

        Parameters
        ----------
        plan : sequence of str, or str / os.PathLike
            Plan lines such as ``"(stack b1 b2)"`` (``;`` comments ignored), plan text, or a
            file path (see :func:`parse_plan_lines`).

        Returns
        -------
        ValidationResult
        """
        up = self._up
        from unified_planning.engines import SequentialPlanValidator
        from unified_planning.engines.results import (
            FailedValidationReason,
            ValidationResultStatus,
        )

        try:
            steps = parse_plan_lines(plan)
        except ValueError as exc:
            m = re.match(r"step (\d+)", str(exc))
            return ValidationResult(False, None, str(exc), int(m.group(1)) if m else None)
        except OSError as exc:
            return ValidationResult(False, None, f"cannot read plan: {exc}")

        instances = []
        for i, (name, args) in enumerate(steps, start=1):
            shown = "(" + " ".join([name, *args]) + ")"
            action = self._lookup(self._actions, name)
            if action is None:
                return ValidationResult(False, None, f"step {i} {shown}: unknown action {name}", i)
            if len(args) != len(action.parameters):
                return ValidationResult(
                    False,
                    None,
                    f"step {i} {shown}: wrong arity, {name} takes "
                    f"{len(action.parameters)} arguments, got {len(args)}",
                    i,
                )
            params = []
            for arg, par in zip(args, action.parameters, strict=True):
                obj = self._lookup(self._objects, arg)
                if obj is None:
                    return ValidationResult(
                        False, None, f"step {i} {shown}: unknown object {arg}", i
                    )
                if not par.type.is_compatible(obj.type):
                    return ValidationResult(
                        False,
                        None,
                        f"step {i} {shown}: object {arg} of type {obj.type} does not fit "
                        f"parameter {par.name} of type {par.type}",
                        i,
                    )
                params.append(self._em.ObjectExp(obj))
            instances.append(up.plans.ActionInstance(action, tuple(params)))

        validator = SequentialPlanValidator(environment=self.problem.environment)
        # IPC tasks often leave static numeric fluents undefined where no action reads them
        # (e.g. road lengths of absent roads); UP then cannot prove support and would refuse.
        validator.error_on_failed_checks = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = validator.validate(self.problem, up.plans.SequentialPlan(instances))
        except Exception as exc:  # not proven valid, so report it as not valid, saying why
            return ValidationResult(
                False, None, f"unified-planning could not validate: {type(exc).__name__}: {exc}"
            )
        message = "; ".join(m.message for m in (res.log_messages or []))
        if res.status == ValidationResultStatus.VALID:
            cost = float(len(instances))
            if res.metric_evaluations:
                cost = float(next(iter(res.metric_evaluations.values())))
            return ValidationResult(True, cost, "valid")
        if res.reason == FailedValidationReason.INAPPLICABLE_ACTION:
            k = len(res.trace) if res.trace else None  # trace: initial state + applied steps
            shown = "(" + " ".join([steps[k - 1][0], *steps[k - 1][1]]) + ")" if k else "?"
            m = re.match(r"Preconditions (\[.*\]) of ", message)
            if m:
                why = f"unsatisfied preconditions {m.group(1)}"
            elif "Invalid Action" in message:
                # UP's grounder simplified the precondition to false (e.g. (sail l1 l1) with
                # (not (at-ferry ?to))) or met an undefined numeric value.
                why = (
                    "precondition can never hold for these arguments "
                    "(or reads an undefined value)"
                )
            else:
                why = message
            return ValidationResult(False, None, f"step {k} {shown} is inapplicable: {why}", k)
        if res.reason == FailedValidationReason.UNSATISFIED_GOALS:
            missing = self._unsatisfied_goals(res.trace[-1]) if res.trace else []
            why = "unsatisfied goals " + _listing(missing) if missing else message
            return ValidationResult(
                False, None, f"goal not reached after {len(instances)} steps: {why}"
            )
        return ValidationResult(False, None, f"invalid ({res.status.name}): {message}")

    def _unsatisfied_goals(self, state) -> list[str]:
        """Goal conjuncts false in ``state``; unified-planning reports only the whole
        conjunction, which for a large task names every goal atom."""
        conjuncts, todo = [], list(self.problem.goals)
        while todo:
            g = todo.pop(0)
            if g.is_and():
                todo[:0] = list(g.args)
            else:
                conjuncts.append(g)
        missing = []
        for g in conjuncts:
            neg = g.is_not()
            f = g.arg(0) if neg else g
            if not f.is_fluent_exp():
                return []  # not a literal: leave the explanation to unified-planning
            if state.get_value(f).bool_constant_value() == neg:
                missing.append(str(g))
        return missing


def _listing(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"[{shown}]{more}"


def validate_plan(
    domain_path: str | os.PathLike[str],
    problem_path: str | os.PathLike[str],
    plan: Sequence[str] | str | os.PathLike[str],
) -> ValidationResult:
    """Validate a sequential plan for a PDDL task with unified-planning.

    Parameters
    ----------
    domain_path, problem_path : str or os.PathLike
        PDDL domain and problem files.
    plan : sequence of str, or str / os.PathLike
        IPC-format plan lines (``(action arg1 arg2)``, ``;`` comments ignored, names
        case-insensitive) or the path of a plan file.

    Returns
    -------
    ValidationResult
        ``valid``, ``cost`` (metric value or step count) and the ``reason`` of a failure.

    Raises
    ------
    ValueError
        If the domain or problem cannot be read.

    Examples
    --------
    >>> r = validate_plan("domain.pddl", "p01.pddl", ["(pick-up b1)", "(stack b1 b2)"])
    ... # doctest: +SKIP
    >>> r.valid, r.cost, r.reason  # doctest: +SKIP
    (True, 2.0, 'valid')
    """
    return PlanValidator(domain_path, problem_path).validate(plan)
