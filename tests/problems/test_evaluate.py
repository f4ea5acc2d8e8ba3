"""The trusted evaluation path: candidates run sandboxed, the parent validates and scores.

Every sandboxed case below runs through one module-scoped pool (2 workers, engine compiled once
per worker by the warmup); the cases that need the sandbox are evaluated in two batches (static
checks on, and off to reach the parent-side defences with code the static check would refuse),
so the workers run them in parallel.
"""

from __future__ import annotations

import os
import pickle
import uuid
from collections import Counter, OrderedDict

import numpy as np
import pytest
from operator_sources import PREAMBLE_REPAIR

from ahd.candidate import Candidate
from ahd.problems.engine.config import LNSConfig
from ahd.problems.evaluate import (
    WARMUP_SPEC,
    EvaluationRecord,
    InstanceSpec,
    InvalidOutput,
    RoutingEvaluation,
    SourceOperator,
    check_source,
    evaluate_and_store,
    evaluate_candidates,
    prepare,
    record_from_result,
    validate_child_output,
)
from ahd.problems.generators import uniform_cvrp
from ahd.problems.requests import CHILD_KEYS
from ahd.problems.verify import verify
from ahd.sandbox import SandboxLimits, SandboxPool, SandboxResult
from ahd.store import Store

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the sandbox needs fork()")

FAKE_KEY = "sk-fake-" + uuid.uuid4().hex
SECRET_VAR = "AHD_TEST_FAKE_API_KEY"
LIMITS = SandboxLimits(wall_time=20.0)
CONFIG = LNSConfig(iterations=50, seed=3)
SPEC = InstanceSpec("cvrp", 25, 7)
INSTANCE = uniform_cvrp(20, 11)

# --- candidate sources ---------------------------------------------------------------------

RANDOM_REMOVAL = """
def destroy(inst, sol, n_remove, removed):
    k = 0
    tries = 0
    while k < n_remove and tries < 20 * n_remove:
        tries += 1
        c = np.random.randint(1, inst.n + 1)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k
"""

GREEDY_REPAIR = PREAMBLE_REPAIR.replace("def greedy(", "def repair(")

# Claims a score in every way a module can: none of it is read.
SCORE_CLAIMS = "cost = 0\nobjective = 0.0\nscore = -1.0\n" + RANDOM_REMOVAL

# Zeroes the engine's own route costs: the engine believes each iteration is a new best.
ZERO_COSTS = """
def destroy(inst, sol, n_remove, removed):
    for r in range(sol.nroutes[0]):
        sol.cost[r] = 0.0
    k = 0
    while k < n_remove:
        c = np.random.randint(1, inst.n + 1)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k
"""

PATCH_VERIFY = """
import ahd.problems.verify as trusted
import ahd.problems.engine.lns as lns

def fake_verify(instance, routes):
    return 0.0

trusted.verify = fake_verify
lns.verify = fake_verify
"""

# Writes a duplicate customer into a route row behind the engine's back and zeroes that
# route's cost, so the engine takes the corrupted solution as its best.
CORRUPT_ROWS = """
def destroy(inst, sol, n_remove, removed):
    for r in range(sol.nroutes[0]):
        if sol.lengths[r] >= 2:
            sol.routes[r, 1] = sol.routes[r, 0]
            sol.cost[r] = 0.0
            return 0
    return 0
"""


def patch_pack(extra: str) -> str:
    """Replace the child's result packer so the result carries ``extra``."""
    return (
        "import ahd.problems.child as ev\n"
        "_orig = ev._pack_result\n"
        "def forged(result):\n"
        "    out = _orig(result)\n"
        f"    {extra}\n"
        "    return out\n"
        "ev._pack_result = forged\n"
    ) + RANDOM_REMOVAL


LEAK_ENV = """
import os

def destroy(inst, sol, n_remove, removed):
    return 0

raise RuntimeError("env: " + repr(dict(os.environ)))
"""

LEAK_PROC = """
import os

found = []
for entry in os.listdir("/proc"):
    try:
        with open("/proc/" + entry + "/environ", "rb") as f:
            found.append(f.read().decode(errors="replace"))
    except OSError:
        pass

def destroy(inst, sol, n_remove, removed):
    return 0

raise RuntimeError("proc: " + " ".join(found))
"""

BAD_COUNT = RANDOM_REMOVAL.replace("return k", "return k + inst.n + 1")
RETURNS_ARRAY = RANDOM_REMOVAL.replace("return k", "return removed")
RETURNS_FLOAT = RANDOM_REMOVAL.replace("return k", "return 1.5")
RETURNS_LIST = RANDOM_REMOVAL.replace("return k", "return [1, 2]")
REPAIR_RETURNS = GREEDY_REPAIR + "    return k\n"
WRONG_ARITY = RANDOM_REMOVAL.replace("n_remove, removed)", "n_remove)")
SYNTAX_ERROR = "def destroy(inst, sol, n_remove, removed)\n    return 0\n"
SLOW = RANDOM_REMOVAL.replace("def destroy", "while True:\n    pass\n\ndef destroy")


def destroy_eval(source: str, instance=SPEC, config=CONFIG, **kw) -> RoutingEvaluation:
    return RoutingEvaluation(instance, config, destroy=SourceOperator(source), **kw)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_VAR, FAKE_KEY)
        with SandboxPool(2, warmup=WARMUP_SPEC, limits=LIMITS, prewarm_numba="basic") as p:
            yield p


class CountingPool:
    """A pool that counts what reaches the sandbox."""

    def __init__(self, pool):
        self.pool, self.submitted = pool, 0

    def submit(self, *args, **kw):
        self.submitted += 1
        return self.pool.submit(*args, **kw)


CHECKED = {
    "good": destroy_eval(RANDOM_REMOVAL),
    "good_instance": destroy_eval(RANDOM_REMOVAL, instance=INSTANCE),
    "team": RoutingEvaluation(
        SPEC, CONFIG, destroy=[SourceOperator(RANDOM_REMOVAL), "random_removal"],
        repair=SourceOperator(GREEDY_REPAIR, name="mine"),
    ),
    "score_claims": destroy_eval(SCORE_CLAIMS),
    "zero_costs": destroy_eval(ZERO_COSTS),
    "corrupt_rows": destroy_eval(CORRUPT_ROWS, config=LNSConfig(iterations=5, local_search=False)),
    "entry_point": RoutingEvaluation.for_candidate(
        Candidate(RANDOM_REMOVAL.replace("def destroy", "def ruin"), ("destroy",), "cvrp",
                  entry_points={"destroy": "ruin"}),
        SPEC, CONFIG, partners={"repair": "greedy_repair"}, seed=5,
    ),
    "joint": RoutingEvaluation.for_candidate(
        Candidate(RANDOM_REMOVAL + GREEDY_REPAIR, ("destroy", "repair"), "cvrp"), SPEC, CONFIG
    ),
    "bad_count": destroy_eval(BAD_COUNT),
    "returns_array": destroy_eval(RETURNS_ARRAY),
    # rejected statically: never sandboxed
    "patch_verify_checked": destroy_eval(PATCH_VERIFY + RANDOM_REMOVAL),
    "returns_float": destroy_eval(RETURNS_FLOAT),
    "returns_list": destroy_eval(RETURNS_LIST),
    "repair_returns": RoutingEvaluation(SPEC, CONFIG, repair=SourceOperator(REPAIR_RETURNS)),
    "wrong_arity": destroy_eval(WRONG_ARITY),
    "syntax_error": destroy_eval(SYNTAX_ERROR),
    "empty": destroy_eval("   \n"),
}
STATIC = {
    "patch_verify_checked", "returns_float", "returns_list", "repair_returns", "wrong_arity",
    "syntax_error", "empty",
}

UNCHECKED = {
    "patch_verify": destroy_eval(PATCH_VERIFY + RANDOM_REMOVAL),
    "forged_cost_key": destroy_eval(patch_pack('out["cost"] = 0.0')),
    "extra_key": destroy_eval(patch_pack('out["note"] = "trust me"')),
    "tuple_routes": destroy_eval(patch_pack('out["routes"] = [tuple(r) for r in out["routes"]]')),
    "infeasible_returned": destroy_eval(
        PATCH_VERIFY + CORRUPT_ROWS, config=LNSConfig(iterations=5, local_search=False)
    ),
    "leak_env": destroy_eval(LEAK_ENV),
}


@pytest.fixture(scope="module")
def checked(pool):
    counting = CountingPool(pool)
    records = evaluate_candidates(list(CHECKED.values()), counting)
    assert counting.submitted == len(CHECKED) - len(STATIC)  # static rejections never sent
    return dict(zip(CHECKED, records, strict=True))


@pytest.fixture(scope="module")
def unchecked(pool):
    records = evaluate_candidates(list(UNCHECKED.values()), pool, check_static=False)
    return dict(zip(UNCHECKED, records, strict=True))


def true_cost(record: EvaluationRecord, instance=None) -> float:
    instance = instance if instance is not None else SPEC.build()
    return verify(instance, record.routes)


# --- good candidates ---------------------------------------------------------------------------


def test_good_destroy_is_scored_by_the_parent(checked):
    for name, instance in (("good", SPEC.build()), ("good_instance", INSTANCE)):
        r = checked[name]
        assert r.status == "ok", r
        assert r.instance == instance.name
        assert r.objective == pytest.approx(verify(instance, r.routes), abs=0)
        assert r.objective > 0
        assert r.metrics["iterations"] == 50
        assert r.metrics["python_mode"] is False
        assert r.metrics["compile_errors"] == {}
        assert set(r.metrics["operator_stats"]["destroy"]) == {"destroy"}
        assert r.metrics["operator_stats"]["destroy"]["destroy"]["chosen"] == 50
        assert r.time > 0 and r.error is None


def test_routing_instance_pickles_whole():
    copy = pickle.loads(pickle.dumps(INSTANCE))
    assert copy.name == INSTANCE.name and copy.kind == INSTANCE.kind
    assert np.array_equal(copy.dist, INSTANCE.dist)
    assert np.array_equal(copy.demand, INSTANCE.demand)
    assert copy.capacity == INSTANCE.capacity and copy.max_routes == INSTANCE.max_routes


def test_team_of_two_sources_and_a_seed(checked):
    r = checked["team"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0)
    stats = r.metrics["operator_stats"]
    assert set(stats["destroy"]) == {"destroy", "random_removal"}
    assert set(stats["repair"]) == {"mine"}


def test_candidate_entry_points_partners_and_joint_roles(checked):
    r = checked["entry_point"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0)
    stats = r.metrics["operator_stats"]
    assert set(stats["destroy"]) == {"ruin"} and set(stats["repair"]) == {"greedy_repair"}
    r = checked["joint"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0)
    stats = r.metrics["operator_stats"]
    assert set(stats["destroy"]) == {"destroy"} and set(stats["repair"]) == {"repair"}


def test_request_building():
    cand = Candidate(RANDOM_REMOVAL, ("destroy",), "cvrp")
    req = RoutingEvaluation.for_candidate(cand, ("cvrp", 25, 7), CONFIG, seed=9)
    assert req.instance == SPEC and req.destroy == (cand,) and req.repair is None
    assert req.effective_config().seed == 9 and CONFIG.seed == 3
    with pytest.raises(ValueError, match="fill roles the candidate fills itself"):
        RoutingEvaluation.for_candidate(cand, SPEC, CONFIG, partners={"destroy": "x"})
    with pytest.raises(ValueError, match="cannot fill the repair role"):
        RoutingEvaluation(SPEC, CONFIG, repair=cand)
    with pytest.raises(ValueError, match="unknown generator"):
        InstanceSpec("vrptw", 10, 1)
    prepared = prepare(req, {})
    assert prepared.payload["config"]["seed"] == 9
    assert prepared.payload["instance"] == {"problem": "cvrp", "n": 25, "seed": 7}
    assert prepared.labels["repair"] == ["greedy_repair", "regret_repair", "blink_repair"]


# --- forged scores -----------------------------------------------------------------------------


def test_module_level_score_claims_are_ignored(checked):
    r = checked["score_claims"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0) and r.objective > 1


def test_zeroed_engine_costs_do_not_lower_the_objective(checked):
    r = checked["zero_costs"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0) and r.objective > 1


def test_patched_verifier_is_refused_statically(checked):
    r = checked["patch_verify_checked"]
    assert r.status == "static"
    assert "import of 'ahd.problems.verify' is not allowed" in r.error


def test_patched_verifier_in_the_child_does_not_reach_the_objective(unchecked):
    r = unchecked["patch_verify"]
    assert r.status == "ok", r
    assert r.objective == pytest.approx(true_cost(r), abs=0) and r.objective > 1


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("forged_cost_key", ["score field", "'cost'"]),
        ("extra_key", ["unexpected ['note']"]),
        ("tuple_routes", ["'routes'[0] must be a list, got tuple"]),
    ],
)
def test_tampered_result_is_invalid(unchecked, name, words):
    r = unchecked[name]
    assert r.status == "invalid", r
    assert r.objective is None and r.routes is None
    for word in words:
        assert word in r.error


# --- infeasible, errors, wrong types -----------------------------------------------------------


def test_corrupted_solution_is_infeasible(checked, unchecked):
    # The engine's own check caught it in the child ...
    r = checked["corrupt_rows"]
    assert r.status == "infeasible", r
    assert "visited 2 times" in r.error and r.objective is None
    # ... and with that check patched out, the parent's verification catches it.
    r = unchecked["infeasible_returned"]
    assert r.status == "infeasible", r
    assert "visited 2 times" in r.error and r.objective is None


def test_operator_error_is_an_error_with_its_message(checked):
    r = checked["bad_count"]
    assert r.status == "error", r
    assert r.error.startswith("OperatorError: destroy operator 'destroy' broke the contract")
    assert "CandidateError" not in r.error


def test_uncompilable_operator_error_says_why(checked):
    r = checked["returns_array"]
    assert r.status == "error", r
    assert "could not be compiled by numba and ran as plain Python" in r.error
    assert "destroy operator 'destroy'" in r.error


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("returns_float", ["returns float 1.5", "destroy role returns k"]),
        ("returns_list", ["returns a list", "destroy role returns k"]),
        ("repair_returns", ["'repair' returns a value", "returns nothing"]),
        ("wrong_arity", ["'destroy' takes 3 parameters but the destroy role needs 4"]),
        ("syntax_error", ["syntax error"]),
        ("empty", ["the source is empty"]),
    ],
)
def test_static_rejections(checked, name, words):
    r = checked[name]
    assert r.status == "static", r
    assert r.objective is None and "sandbox_status" not in r.metrics
    for word in words:
        assert word in r.error, r.error


def test_timeout(pool):
    short = SandboxLimits(wall_time=3.0)
    (r,) = evaluate_candidates([destroy_eval(SLOW)], pool, limits=short)
    assert r.status == "timeout", r
    assert "wall-clock limit" in r.error


def test_unknown_seed_name_is_the_callers_error():
    with pytest.raises(ValueError, match="unknown repair operator 'no_such'"):
        prepare(RoutingEvaluation(SPEC, CONFIG, repair="no_such"), {})


def test_check_source_accepts_the_good_ones():
    assert check_source(RANDOM_REMOVAL, {"destroy": "destroy"}) == []
    assert check_source(GREEDY_REPAIR, {"repair": "repair"}) == []


# --- parent-side validation, without the sandbox ------------------------------------------------


def good_output() -> dict:
    return {
        "routes": [[1, 2], [3]],
        "iterations": 5,
        "python_mode": False,
        "compile_errors": {},
        "stats": {
            "destroy": {"d": dict.fromkeys(("chosen", "improved", "new_best", "accepted",
                                            "seconds", "gain"), 1.0)},
            "repair": {},
        },
        "pairs": [[]],
        "elapsed": 0.5,
    }


LABELS = {"destroy": ["d"], "repair": [], "improve": []}


def test_validate_accepts_the_exact_shape():
    routes, metrics = validate_child_output(good_output(), LABELS)
    assert routes == [[1, 2], [3]]
    assert metrics["iterations"] == 5 and metrics["search_seconds"] == 0.5
    assert "cost" not in metrics and "objective" not in metrics


def _with(**changes):
    out = good_output()
    for key, value in changes.items():
        if value is KeyError:
            del out[key]
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "must be a dict, got list"),
        (OrderedDict(good_output()), "must be a dict, got OrderedDict"),
        (Counter(), "must be a dict, got Counter"),
        (_with(cost=0.0), "score field(s) ['cost']"),
        (_with(Objective=1.0), "score field(s) ['Objective']"),
        (_with(best_score=1.0), "score field(s) ['best_score']"),
        (_with(extra=1), "unexpected ['extra']"),
        (_with(elapsed=KeyError), "missing ['elapsed']"),
        (_with(routes=((1, 2),)), "'routes' must be a list, got tuple"),
        (_with(routes=[[1, True]]), "'routes'[0][1] must be an int, got bool"),
        (_with(routes=[[1, np.int64(2)]]), "'routes'[0][1] must be an int, got int64"),
        (_with(routes=[[1.0]]), "'routes'[0][0] must be an int, got float"),
        (_with(iterations=-1), "'iterations' must be an int >= 0"),
        (_with(iterations=True), "'iterations' must be an int >= 0"),
        (_with(python_mode=0), "'python_mode' must be a bool"),
        (_with(elapsed=float("nan")), "'elapsed' must be finite"),
        (_with(compile_errors={"destroy:zz": "x"}), "unknown operator 'destroy:zz'"),
        (_with(compile_errors={"destroy:d": 3}), "must be a string"),
        (_with(stats={"destroy": {}}), "'stats' must be a dict with exactly the keys"),
        (_with(stats={"destroy": {"x": {}}, "repair": {}}), "'stats'['destroy'] must have"),
    ],
)
def test_validate_rejects(value, message):
    with pytest.raises(InvalidOutput) as info:
        validate_child_output(value, LABELS)
    assert message in str(info.value)


def _prepared():
    return prepare(destroy_eval(RANDOM_REMOVAL, instance=INSTANCE), {})


@pytest.mark.parametrize(
    ("status", "signal", "expected"),
    [
        ("timeout", None, "timeout"),
        ("cpu_limit", "SIGXCPU", "timeout"),
        ("memory", None, "memory"),
        ("crashed", "SIGSEGV", "crashed"),
        ("killed", "SIGKILL", "crashed"),
        ("output_limit", None, "error"),
        ("bad_result", None, "invalid"),
    ],
)
def test_sandbox_statuses_map_onto_records(status, signal, expected):
    result = SandboxResult(status, error=f"it went {status}", signal=signal, wall_time=1.0)
    r = record_from_result(_prepared(), result)
    assert r.status == expected and r.objective is None and r.time == 1.0
    if signal:
        assert r.metrics["signal"] == signal
    if status == "crashed":
        assert "SIGSEGV" in r.error


def test_an_ok_result_with_infeasible_routes_is_infeasible():
    out = good_output()
    out["stats"]["destroy"] = {"destroy": out["stats"]["destroy"].pop("d")}
    out["stats"]["repair"] = {
        name: dict.fromkeys(("chosen", "improved", "new_best", "accepted", "seconds", "gain"), 0.0)
        for name in ("greedy_repair", "regret_repair", "blink_repair")
    }
    out["pairs"] = [[[0.0, 0.0]] * 3]
    r = record_from_result(_prepared(), SandboxResult("ok", value=out))
    assert r.status == "infeasible" and "not visited" in r.error


def test_static_record_is_stored_as_invalid():
    r = EvaluationRecord("i", "static", None, 0.0, "line 1: nope")
    e = r.to_evaluation(candidate_id=4, context="seed=1")
    assert (e.status, e.metrics["stage"], e.context, e.error) == ("invalid", "static", "seed=1",
                                                                    "line 1: nope")


def test_secrets_in_child_text_are_redacted(monkeypatch):
    monkeypatch.setenv(SECRET_VAR, FAKE_KEY)
    result = SandboxResult("error", error=f"RuntimeError: leaked {FAKE_KEY}!")
    r = record_from_result(_prepared(), result)
    assert FAKE_KEY not in r.error and "[redacted]" in r.error


# --- the store ---------------------------------------------------------------------------------


def make_candidate(source: str) -> Candidate:
    return Candidate(source, ("destroy",), "cvrp")


def test_secrets_never_reach_the_store(pool, unchecked, tmp_path):
    assert os.environ[SECRET_VAR] == FAKE_KEY  # set for the pool's whole life
    assert FAKE_KEY not in repr(unchecked["leak_env"])
    assert unchecked["leak_env"].status == "error" and "env: {" in unchecked["leak_env"].error
    run_dir = tmp_path / "run"
    with Store.in_run_dir(run_dir) as store:
        run = store.create_run("cvrp", {"iterations": 50}, seed=0, versions={})
        candidates = [make_candidate(LEAK_ENV), make_candidate(LEAK_PROC),
                      make_candidate(RANDOM_REMOVAL)]
        records = evaluate_and_store(
            store, run.id, candidates, [SPEC], CONFIG, pool=pool, check_static=False
        )
        assert [r.status for r in records] == ["error", "error", "ok"], records
        assert store.integrity_check() == "ok"
    data = b"".join(p.read_bytes() for p in run_dir.iterdir() if p.is_file())
    assert b"env: {" in data  # the leak attempts' messages were stored ...
    assert FAKE_KEY.encode() not in data  # ... without the secret
    assert SECRET_VAR.encode() not in data


def test_evaluate_and_store_dedupes_and_skips_what_is_stored(pool, tmp_path):
    counting = CountingPool(pool)
    reformatted = "# same code\n" + RANDOM_REMOVAL.replace("    k = 0", "    k = 0  # count")
    candidates = [make_candidate(RANDOM_REMOVAL), make_candidate(reformatted),
                  make_candidate(RETURNS_FLOAT)]
    instances = [SPEC, (SPEC.problem, 20, 8)]
    with Store.in_run_dir(tmp_path / "run") as store:
        run = store.create_run("cvrp", {}, seed=0, versions={})
        seen = []
        records = evaluate_and_store(
            store, run.id, candidates, instances, CONFIG, pool=counting, on_record=seen.append
        )
        assert len(store.candidate_ids()) == 2  # the reformatted copy is the same candidate
        assert len(records) == 4 and len(seen) == 4
        assert counting.submitted == 2  # the float-returning one was rejected statically
        statuses = Counter(r.status for r in records)
        assert statuses == {"ok": 2, "static": 2}
        good, bad = store.candidate_ids()
        stored = {(e.candidate_id, e.instance): e for cid in (good, bad)
                  for e in store.evaluations_for(cid)}
        assert len(stored) == 4
        for r in records:
            e = stored[(r.candidate_id, r.instance)]
            assert e.objective == r.objective
            assert e.status == ("invalid" if r.status == "static" else r.status)
        # again: nothing pending, nothing sandboxed
        assert evaluate_and_store(store, run.id, candidates, instances, CONFIG,
                                  pool=counting) == []
        assert counting.submitted == 2


def test_partners_name_the_context(pool, tmp_path):
    repair = Candidate(GREEDY_REPAIR, ("repair",), "cvrp")
    with Store.in_run_dir(tmp_path / "run") as store:
        run = store.create_run("cvrp", {}, seed=0, versions={})
        records = evaluate_and_store(
            store, run.id, [repair], [SPEC], CONFIG, pool=pool,
            partners={"destroy": ["random_removal", "worst_removal"]},
        )
        assert [r.status for r in records] == ["ok"], records
        (e,) = store.evaluations_for(records[0].candidate_id)
        assert e.context == "partners=destroy:random_removal+worst_removal"
        assert set(e.metrics["operator_stats"]["destroy"]) == {"random_removal", "worst_removal"}


def test_child_keys_are_what_validation_expects():
    assert set(good_output()) == set(CHILD_KEYS)
