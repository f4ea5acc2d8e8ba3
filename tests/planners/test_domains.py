"""Project-made planning domains: generators are seeded, tasks parse with two independent PDDL
readers, reference plans are valid, and write_suite produces the IPC 2023 learning layout."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pddl
import pytest

from ahd.planners.domains import (
    DIFFICULTIES,
    DOMAINS,
    blocksworld,
    get_domain,
    read_problem,
    split_sizes,
    write_suite,
)
from ahd.planners.validate import PlanValidator

NAMES = sorted(DOMAINS)


@pytest.fixture(scope="module")
def up_reader():
    from unified_planning.io import PDDLReader
    from unified_planning.shortcuts import get_environment

    get_environment().credits_stream = None
    return PDDLReader()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_registry_covers_the_required_domains():
    assert {"blocksworld", "gripper", "miconic", "ferry"} <= set(DOMAINS)
    for name, spec in DOMAINS.items():
        assert spec.name == name and f"(domain {name})" in spec.domain
        assert spec.description and spec.unit and spec.reference_plan is not None
        assert set(spec.test) == set(DIFFICULTIES)
        for split in ("train", "validation", *DIFFICULTIES):
            lo, hi = spec.sizes(split)
            assert spec.min_size <= lo <= hi
        # Test difficulties grow, so "hard" really means larger tasks.
        assert spec.test["easy"][1] < spec.test["medium"][1] < spec.test["hard"][1]
    assert get_domain("Blocksworld") is DOMAINS["blocksworld"]
    with pytest.raises(KeyError, match="known: "):
        get_domain("logistics")
    with pytest.raises(KeyError, match="unknown split"):
        DOMAINS["ferry"].sizes("huge")


def test_blocksworld_is_the_four_operator_version():
    text = DOMAINS["blocksworld"].domain
    for op in ("pick-up", "put-down", "stack", "unstack"):
        assert f"(:action {op}\n" in text
    assert "(handempty)" in text


def test_ferry_keeps_the_learning_track_semantics():
    text = DOMAINS["ferry"].domain
    assert ":negative-preconditions" in text
    assert "(not (at-ferry ?to))" in text


@pytest.mark.parametrize("name", NAMES)
def test_generation_is_deterministic_given_the_rng(name):
    spec = DOMAINS[name]
    size = spec.test["easy"][1]
    a = spec.generate(size, np.random.default_rng(5))
    b = spec.generate(size, np.random.default_rng(5))
    c = spec.generate(size, np.random.default_rng(6))
    assert a == b and a != c
    assert spec.generate(size, 5) == a  # an int seed is a shorthand for default_rng(seed)


@pytest.mark.parametrize("name", NAMES)
def test_rng_and_size_are_checked(name):
    spec = DOMAINS[name]
    with pytest.raises(TypeError, match="rng"):
        spec.generator(spec.min_size, None)
    with pytest.raises(ValueError, match="size must be"):
        spec.generator(spec.min_size - 1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="size must be"):
        spec.generator(2.5, np.random.default_rng(0))


@pytest.mark.parametrize("name", NAMES)
def test_tasks_parse_with_both_readers_and_reference_plans_validate(name, tmp_path, up_reader):
    spec = DOMAINS[name]
    domain = _write(tmp_path, "domain.pddl", spec.domain)
    parsed_domain = pddl.parse_domain(domain)
    assert parsed_domain.name == name
    for i, size in enumerate((spec.min_size, spec.min_size + 2, 9)):
        text = spec.generate(size, np.random.default_rng(100 + i))
        problem = _write(tmp_path, f"p{i}.pddl", text)
        parsed = pddl.parse_problem(problem)
        up_problem = up_reader.parse_problem_string(spec.domain, text)
        facts = read_problem(problem)
        assert parsed.name == up_problem.name == facts.name
        assert len(parsed.objects) == len(up_problem.all_objects) == len(facts.objects)
        assert len(parsed.init) == len(facts.init)
        plan = spec.reference_plan(text)
        result = PlanValidator(domain, problem).validate(plan)
        assert result.valid, (size, result.reason)
        assert result.cost == len(plan) > 0


def test_generated_goals_are_never_already_true():
    for name in NAMES:
        spec = DOMAINS[name]
        for seed in range(20):
            facts = read_problem(spec.generate(spec.min_size, np.random.default_rng(seed)))
            assert not set(facts.goal) <= facts.init, (name, seed)


def test_moved_objects_have_a_new_destination():
    """Gripper balls, ferry cars and miconic passengers always have somewhere to go."""
    rng = np.random.default_rng(3)
    for name, start_pred, goal_pred in (
        ("gripper", "at", "at"),
        ("ferry", "at", "at"),
        ("miconic", "origin", "destin"),
    ):
        facts = read_problem(DOMAINS[name].generate(40, rng))
        start = {a[1]: a[2] for a in facts.init if a[0] == start_pred}
        source = facts.init if name == "miconic" else facts.goal
        dest = {a[1]: a[2] for a in source if a[0] == goal_pred}
        assert start.keys() == dest.keys() and len(start) == 40
        assert all(start[x] != dest[x] for x in start)


def test_blocksworld_states_are_uniform():
    """3 blocks have 13 states (6 single towers, 6 with two towers, 1 all on the table)."""
    rng = np.random.default_rng(0)
    counts = Counter(
        frozenset(tuple(t) for t in blocksworld.random_state(3, rng)) for _ in range(6500)
    )
    assert len(counts) == 13
    assert all(400 < c < 600 for c in counts.values()), counts  # expected 500 each
    for n in (1, 2, 7):
        towers = blocksworld.random_state(n, rng)
        assert sorted(b for t in towers for b in t) == list(range(n))


def test_default_parameters_follow_the_learning_track():
    assert "locations=15" in DOMAINS["ferry"].generate(20, 0)
    assert "locations=5" in DOMAINS["ferry"].generate(2, 0)
    assert "floors=20" in DOMAINS["miconic"].generate(10, 0)
    text = DOMAINS["gripper"].generate(3, 0, name="g-x")
    assert "(problem g-x)" in text and "rooms=2" in text


def test_reference_plans_are_reasonable():
    """Reference plans are upper bounds later tests compare against; keep them tight-ish."""
    rng = np.random.default_rng(1)
    for name, per_unit in (("blocksworld", 4), ("ferry", 4), ("gripper", 3), ("miconic", 4)):
        spec = DOMAINS[name]
        plan = spec.reference_plan(spec.generate(30, rng))
        assert len(plan) <= per_unit * 30 + 2, (name, len(plan))
    classic = (
        "(define (problem g) (:domain gripper) (:objects r1 r2 - room b1 b2 b3 b4 - ball "
        "left right - gripper) (:init (at-robby r1) (free left) (free right) (at b1 r1) "
        "(at b2 r1) (at b3 r1) (at b4 r1)) (:goal (and (at b1 r2) (at b2 r2) (at b3 r2) "
        "(at b4 r2))))"
    )
    assert len(DOMAINS["gripper"].reference_plan(classic)) == 11  # optimal for 4 balls


def test_read_problem_handles_ipc_style_text(tmp_path):
    text = """; comment (with parens
    (define (problem Ferry-01)
     (:domain ferry)
     (:objects car1 - car loc1 loc2 - location)
     (:init (empty-ferry) (at-ferry loc1) (AT car1 loc1))  ; trailing comment
     (:goal (and (at car1 loc2))))"""
    facts = read_problem(text)
    assert facts.name == "ferry-01" and facts.domain == "ferry"
    assert facts.objects == {"car1": "car", "loc1": "location", "loc2": "location"}
    assert ("at", "car1", "loc1") in facts.init and facts.goal == (("at", "car1", "loc2"),)
    path = _write(tmp_path, "p.pddl", text)
    assert read_problem(path) == read_problem(str(path)) == facts
    assert DOMAINS["ferry"].reference_plan(path) == ["(board car1 loc1)", "(sail loc1 loc2)",
                                                     "(debark car1 loc2)"]


def test_split_sizes_rise_over_the_range():
    assert split_sizes((2, 20), 10) == sorted(split_sizes((2, 20), 10))
    assert split_sizes((2, 20), 10)[0] == 2 and split_sizes((2, 20), 10)[-1] == 20
    assert split_sizes((5, 5), 3) == [5, 5, 5]
    assert split_sizes((3, 9), 1) == [3] and split_sizes((3, 9), 0) == []


def test_write_suite_layout(tmp_path):
    out = write_suite(
        tmp_path / "suite", n_train=3, n_test=2, seed=4, difficulties=("easy", "medium"),
        n_validation=2,
    )
    assert sorted(out) == NAMES
    manifest = json.loads((tmp_path / "suite" / "suite.json").read_text())["tasks"]
    for name, ddir in out.items():
        assert ddir == tmp_path / "suite" / name
        assert (ddir / "domain.pddl").read_text() == DOMAINS[name].domain
        files = sorted(p.relative_to(ddir).as_posix() for p in ddir.rglob("p*.pddl"))
        assert files == [
            "testing/easy/p01.pddl", "testing/easy/p02.pddl",
            "testing/medium/p01.pddl", "testing/medium/p02.pddl",
            "training/easy/p01.pddl", "training/easy/p02.pddl", "training/easy/p03.pddl",
            "validation/easy/p01.pddl", "validation/easy/p02.pddl",
        ]
        sizes = [manifest[f"{name}/training/easy/p0{i}.pddl"]["size"] for i in (1, 2, 3)]
        assert sizes == split_sizes(DOMAINS[name].train, 3)
        assert manifest[f"{name}/testing/medium/p02.pddl"]["size"] == DOMAINS[name].test[
            "medium"][1]
        first = ddir / "training" / "easy" / "p01.pddl"
        assert read_problem(first).name == f"{name}-train-p01"
    # Files parse with the pddl package (one per domain keeps the test fast).
    for ddir in out.values():
        pddl.parse_problem(ddir / "testing" / "easy" / "p02.pddl")


def test_write_suite_is_deterministic_and_guards_existing_folders(tmp_path):
    a = write_suite(tmp_path / "a", domains=["ferry"], n_train=2, n_test=2, seed=9)
    b = write_suite(tmp_path / "b", domains=["ferry"], n_train=2, n_test=2, seed=9)
    for rel in ("training/easy/p02.pddl", "testing/easy/p01.pddl"):
        assert (a["ferry"] / rel).read_text() == (b["ferry"] / rel).read_text()
    c = write_suite(tmp_path / "c", domains=["ferry"], n_train=2, n_test=2, seed=10)
    assert (c["ferry"] / "training/easy/p02.pddl").read_text() != (
        a["ferry"] / "training/easy/p02.pddl").read_text()
    with pytest.raises(FileExistsError, match="overwrite"):
        write_suite(tmp_path / "a", domains=["ferry"], n_train=1, n_test=1, seed=9)
    write_suite(tmp_path / "a", domains=["ferry"], n_train=1, n_test=1, seed=9, overwrite=True)
    assert not (a["ferry"] / "training/easy/p02.pddl").exists()  # no stale tasks left behind
    # Adding a domain later keeps the manifest entries of the first.
    write_suite(tmp_path / "a", domains=["gripper"], n_train=1, n_test=1, seed=9)
    tasks = json.loads((tmp_path / "a" / "suite.json").read_text())["tasks"]
    assert {k.split("/")[0] for k in tasks} == {"ferry", "gripper"}


def test_write_suite_flat_training_folder_and_argument_checks(tmp_path):
    out = write_suite(tmp_path, domains=["miconic"], n_train=2, n_test=1, train_subdir=None)
    assert (out["miconic"] / "training" / "p01.pddl").is_file()
    assert (out["miconic"] / "testing" / "easy" / "p01.pddl").is_file()
    with pytest.raises(ValueError, match="difficulty"):
        write_suite(tmp_path / "x", domains=["miconic"], difficulties=("extreme",))
    with pytest.raises(ValueError, match="seed"):
        write_suite(tmp_path / "y", domains=["miconic"], seed=-1)
    with pytest.raises(KeyError, match="unknown domain"):
        write_suite(tmp_path / "z", domains=["zenotravel"])
