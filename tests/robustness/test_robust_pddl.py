"""Broken PDDL: ``ahd plan``, ``ahd plan-eval`` and ``ahd evolve --problem planning`` refuse
files that are not text (invalid UTF-8, binary) or not valid PDDL with one line naming the
file, exit status 2 and no traceback, before any search, and change nothing on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM, write_pddl
from robust_cli import Unchanged, assert_refused, invoke

D, P = GRIPPER_DOMAIN, GRIPPER_PROBLEM
CONDITIONAL = D.replace(":strips :typing", ":strips :typing :conditional-effects").replace(
    "(not (free ?g))))", "(not (free ?g)) (when (free ?g) (free ?g))))")

#: id -> (domain bytes, problem bytes, which file the error names, fragment of the line)
CASES: dict[str, tuple[bytes, bytes, str, str]] = {
    "domain_latin1": (D.replace("gripper)", "gr\xeepper)", 1).encode("latin-1"), P.encode(),
                      "domain", "domain file is not text (invalid UTF-8 at byte"),
    "problem_latin1": (D.encode(), P.replace("rooma roomb", "r\xf4oma roomb", 1)
                       .encode("latin-1"), "problem", "problem file is not text (invalid UTF-8"),
    "domain_with_nul_bytes": (D.encode().replace(b"\n", b"\x00\n", 1), P.encode(), "domain",
                              "domain file is not text (it contains NUL bytes)"),
    "problem_is_random_binary": (D.encode(), bytes(range(256)) * 4, "problem",
                                 "problem file is not text"),
    "domain_utf16": (D.encode("utf-16"), P.encode(), "domain", "not text (invalid UTF-8"),
    "domain_truncated": (D[: len(D) // 2].encode(), P.encode(), "domain", "PDDL syntax error"),
    "problem_truncated": (D.encode(), P[: len(P) // 2].encode(), "problem",
                          "PDDL syntax error"),
    "domain_empty": (b"", P.encode(), "domain", "PDDL syntax error"),
    "domain_extra_paren": ((D + ")").encode(), P.encode(), "domain", "PDDL syntax error"),
    "unsupported_conditional_effects": (CONDITIONAL.encode(), P.encode(), "domain",
                                        "conditional effects (when) not supported"),
    "undefined_predicate_in_init": (D.encode(), P.replace("(free left)", "(hungry left)")
                                    .encode(), "problem", "undefined predicate 'hungry'"),
    "unknown_object_in_init": (D.encode(), P.replace("(at b4 rooma)", "(at b9 rooma)")
                               .encode(), "problem", "unknown object 'b9'"),
    "problem_for_another_domain": (D.encode(), P.replace("(:domain gripper)",
                                                         "(:domain logistics)").encode(),
                                   "problem", "problem is for domain 'logistics'"),
    "undeclared_type": (D.replace("(carry ?b - ball", "(carry ?b - bowl").encode(),
                        P.encode(), "domain", "types ['bowl']"),
}


def _write(folder: Path, domain: bytes, problem: bytes) -> tuple[Path, Path]:
    paths = write_pddl(folder, "", "")
    paths[0].write_bytes(domain)
    paths[1].write_bytes(problem)
    return paths


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_refuses_broken_pddl(tmp_path, case):
    domain, problem, named, fragment = CASES[case]
    paths = _write(tmp_path, domain, problem)
    bad = paths[0] if named == "domain" else paths[1]
    untouched = Unchanged(tmp_path)
    outcome = invoke(["plan", *paths, "--out", tmp_path / "plan.txt"])
    assert_refused(outcome, 2, f"error: {bad}", fragment)
    assert "expanded" not in outcome.stdout  # no search ran
    untouched.check()


def _suite(root: Path, problem: bytes, domain: bytes = D.encode()) -> Path:
    folder = root / "suite" / "gripper"
    (folder / "testing" / "easy").mkdir(parents=True)
    (folder / "domain.pddl").write_bytes(domain)
    (folder / "testing" / "easy" / "p01.pddl").write_text(P)
    (folder / "testing" / "easy" / "p02.pddl").write_bytes(problem)
    return root / "suite"


@pytest.mark.parametrize("case", ["problem_latin1", "problem_is_random_binary",
                                  "domain_with_nul_bytes"])
def test_plan_eval_refuses_a_suite_file_that_is_not_text_before_any_run(tmp_path, case):
    domain, problem, named, fragment = CASES[case]
    suite = _suite(tmp_path, problem, domain)
    bad = suite / "gripper" / ("domain.pddl" if named == "domain" else "testing/easy/p02.pddl")
    untouched = Unchanged(tmp_path)
    outcome = invoke(["plan-eval", suite, "--planner", "ahd:hff", "--time", "5s",
                      "--out", tmp_path / "eval"])
    assert_refused(outcome, 2, f"error: {bad}", fragment)
    untouched.check()  # no evaluation folder, no store


def test_plan_eval_refuses_a_pair_list_that_is_not_text(tmp_path):
    write_pddl(tmp_path, D, P)
    listing = tmp_path / "pairs.txt"
    listing.write_bytes(b"d.pddl p.pddl\n\xff\xfe\n")
    untouched = Unchanged(tmp_path)
    outcome = invoke(["plan-eval", listing, "--planner", "ahd:hff", "--out", tmp_path / "ev"])
    assert_refused(outcome, 2, f"error: {listing}: pair list file is not text")
    untouched.check()


@pytest.mark.parametrize("bad", ["domain.pddl", "training/p04.pddl"])
def test_evolve_planning_refuses_a_bad_file_before_any_worker_starts(tmp_path, bad):
    """The domain, or a task that only validation reads (the odd positions validate), is
    refused in one line naming it before the workers start, not after the evolution."""
    folder = tmp_path / "domain"
    (folder / "training").mkdir(parents=True)
    (folder / "domain.pddl").write_text(D)
    for i in range(1, 5):
        (folder / "training" / f"p0{i}.pddl").write_text(P)
    (folder / bad).write_bytes(CASES["domain_latin1" if bad == "domain.pddl"
                                     else "problem_latin1"][bad != "domain.pddl"])
    untouched = Unchanged(tmp_path)
    outcome = invoke(["evolve", "--problem", "planning", "--domain", folder, "--time", "20s",
                      "--jobs", "1", "--out", tmp_path / "run"])
    assert_refused(outcome, 2, f"error: {folder / bad}: ", "file is not text")
    assert "sandbox worker" not in outcome.stderr
    untouched.check()  # no run directory
