"""The SQLite store on real files: WAL, schema versions, dedupe, transactions, queries."""

import sqlite3
from dataclasses import dataclass

import pytest
from operator_sources import constant_destroy

from ahd.candidate import Candidate, Origin
from ahd.store import (
    SCHEMA_VERSION,
    STORE_FILENAME,
    Evaluation,
    NotFoundError,
    SchemaVersionError,
    Store,
    StoreError,
    evaluation_context,
    pending_work,
    store_path,
)


def cand(value: int, roles=("destroy",), **kwargs) -> Candidate:
    return Candidate(constant_destroy(value), roles, "cvrp", **kwargs)


@pytest.fixture
def store(tmp_path):
    with Store.in_run_dir(tmp_path / "run") as s:
        s.create_run("cvrp", {"time": 1.0}, seed=0, versions={"ahd": "test"})
        yield s


def ok(cid, instance, objective, split="train", **kwargs):
    return Evaluation(cid, instance, split, "ok", objective, time=0.1, **kwargs)


def test_new_store_is_wal_with_current_schema(tmp_path):
    path = store_path(tmp_path / "run")
    with Store.in_run_dir(tmp_path / "run") as s:
        assert s.path == path and path.name == STORE_FILENAME
        assert s.schema_version == SCHEMA_VERSION
        assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert s.integrity_check() == "ok"
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "candidates", "evaluations", "llm_calls"} <= tables
    raw.close()


def test_reopening_keeps_data(tmp_path):
    with Store.in_run_dir(tmp_path) as s:
        run = s.create_run("cvrp")
        cid, _ = s.add_candidate(cand(1))
    with Store.in_run_dir(tmp_path) as s:
        assert s.open_run().id == run.id
        assert s.get_candidate(cid).source == constant_destroy(1)


def test_store_refuses_a_newer_schema(tmp_path):
    path = tmp_path / STORE_FILENAME
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    for readonly in (False, True):
        with pytest.raises(SchemaVersionError, match="newer ahd .*upgrade ahd"):
            Store(path, readonly=readonly)


def test_store_refuses_foreign_files(tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    raw = sqlite3.connect(foreign)
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="without an ahd schema version"):
        Store(foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable ahd store"):
        Store(garbage)
    with pytest.raises(StoreError, match="no such store file"):
        Store(tmp_path / "missing.sqlite", readonly=True)
    with pytest.raises(StoreError, match="no such directory"):
        Store(tmp_path / "nowhere" / STORE_FILENAME)


def test_runs_record_config_versions_and_status(tmp_path):
    @dataclass
    class Config:
        iterations: int = 10

    with Store.in_run_dir(tmp_path) as s:
        with pytest.raises(NotFoundError):
            s.open_run()
        run = s.create_run("cvrp", Config(), seed=3, sandbox=["rlimit", "seccomp"])
        assert run.config == {"iterations": 10} and run.seed == 3
        assert run.sandbox == ["rlimit", "seccomp"] and run.status == "running"
        assert "python" in run.versions and "numpy" in run.versions
        second = s.create_run("tsp")
        assert s.open_run().id == second.id
        s.set_run_status("finished", run.id)
        assert [r.status for r in s.runs()] == ["finished", "running"]
        assert s.run.id == second.id
        with pytest.raises(ValueError):
            s.set_run_status("done")
        with pytest.raises(NotFoundError):
            s.open_run(99)


def test_candidates_need_a_current_run(tmp_path):
    with Store.in_run_dir(tmp_path) as s:
        with pytest.raises(StoreError, match="no current run"):
            s.add_candidate(cand(1))


def test_add_candidate_dedupes_by_normalized_code(store):
    first = cand(1, origin=Origin("llm", model="m"))
    cid, new = store.add_candidate(first)
    assert new
    reformatted = Candidate(
        "# comment\ndef destroy(inst,sol,n_remove,removed):\n    '''doc'''\n    return (1)\n",
        ("destroy",), "cvrp",
    )
    assert store.add_candidate(reformatted) == (cid, False)
    assert store.find_candidate(reformatted) == cid
    assert store.get_candidate(cid) == first.with_id(cid)
    other, new = store.add_candidate(cand(2))
    assert new and other != cid
    joint, new = store.add_candidate(cand(1, roles=("destroy", "repair")))
    assert new and joint not in (cid, other)
    assert store.candidate_ids() == [cid, other, joint]


def test_same_code_in_another_run_is_a_new_candidate(store):
    cid, _ = store.add_candidate(cand(1))
    store.create_run("cvrp")
    again, new = store.add_candidate(cand(1))
    assert new and again != cid
    assert store.candidate_run(cid).id == 1 and store.candidate_run(again).id == 2


def test_unknown_parents_are_refused(store):
    with pytest.raises(StoreError, match=r"unknown parent candidate ids: \[42\]"):
        store.add_candidate(cand(1, parents=(42,)))
    assert store.candidate_ids() == []


def test_evaluations_round_trip_and_are_never_repeated(store):
    cid, _ = store.add_candidate(cand(1))
    batch = [
        ok(cid, "b", 2.0, metrics={"iterations": 10}),
        ok(cid, "a", 1.0),
        Evaluation(cid, "a", "validation", "timeout", time=5.0, error="time limit 5s"),
        ok(cid, "a", 1.5, context=evaluation_context({"repair": 3})),
    ]
    assert store.add_evaluations(batch) == 4
    assert store.add_evaluations([ok(cid, "a", 99.0)]) == 0  # already evaluated: skipped
    assert store.add_evaluation(ok(cid, "c", 3.0))
    assert store.has_evaluation(cid, "a", "train")
    assert store.has_evaluation(cid, "a", "train", "partners=repair:3")
    assert not store.has_evaluation(cid, "a", "test")
    stored = store.evaluations_for(cid)
    assert [(e.split, e.instance, e.context) for e in stored] == [
        ("train", "a", ""), ("train", "a", "partners=repair:3"), ("train", "b", ""),
        ("train", "c", ""), ("validation", "a", ""),
    ]
    assert stored[0].objective == 1.0 and stored[0].id is not None and stored[0].created
    assert stored[2].metrics == {"iterations": 10}
    assert stored[4].error == "time limit 5s" and stored[4].objective is None
    assert [e.instance for e in store.evaluations_for(cid, "validation")] == ["a"]


def test_a_failing_batch_leaves_nothing(store):
    cid, _ = store.add_candidate(cand(1))
    batch = [ok(cid, "a", 1.0), ok(cid + 100, "a", 1.0), ok(cid, "b", 2.0)]
    with pytest.raises(StoreError, match="nothing stored"):
        store.add_evaluations(batch)
    assert store.evaluations_for(cid) == []
    assert store.add_evaluations([ok(cid, "a", 1.0)]) == 1  # the store is still usable


def test_a_failing_write_rolls_back_everything_in_it(store):
    cid, _ = store.add_candidate(cand(1))
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(
            "INSERT INTO evaluations (candidate_id, instance, split, status, created) "
            "VALUES (?, 'x', 'train', 'ok', 'now')",
            (cid,),
        )
        raise RuntimeError("killed mid-batch")
    assert not store.has_evaluation(cid, "x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"split": "dev"},
        {"status": "great"},
        {"status": "ok", "objective": None},
        {"objective": float("nan")},
        {"time": -1.0},
        {"instance": ""},
    ],
)
def test_invalid_evaluations_are_refused(kwargs):
    args = {"candidate_id": 1, "instance": "a", "split": "train", "status": "ok",
            "objective": 1.0, **kwargs}
    with pytest.raises(ValueError):
        Evaluation(**args)


def test_leaderboard_ranks_reliable_candidates_first_then_mean(store):
    ids = [store.add_candidate(cand(i))[0] for i in range(5)]
    a, b, c, d, e = ids
    store.add_evaluations([
        ok(a, "i1", 5.0), ok(a, "i2", 5.0),
        ok(b, "i1", 2.0), ok(b, "i2", 4.0),
        ok(c, "i1", 1.0), Evaluation(c, "i2", "train", "timeout"),
        Evaluation(d, "i1", "train", "error", error="boom"),
        ok(e, "i1", 3.0), ok(e, "i2", 3.0), ok(e, "i3", 3.0),
        ok(a, "v1", 0.5, split="validation"),
    ])
    rows = store.leaderboard()
    assert [r.candidate_id for r in rows] == [e, b, a, c, d]
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].mean_objective == 3.0 and rows[0].n_instances == 3
    assert rows[3].status_counts == {"ok": 1, "timeout": 1}
    assert rows[4].mean_objective is None and rows[4].status_counts == {"error": 1}
    assert [r.candidate_id for r in store.leaderboard(top=2)] == [e, b]
    assert [r.candidate_id for r in store.leaderboard(split="validation")] == [a]
    with pytest.raises(ValueError):
        store.leaderboard(split="dev")


def test_leaderboard_role_filter_includes_joint_candidates(store):
    destroy, _ = store.add_candidate(cand(1))
    joint, _ = store.add_candidate(cand(2, roles=("destroy", "repair")))
    improve, _ = store.add_candidate(cand(3, roles=("improve",)))
    store.add_evaluations([ok(destroy, "i", 2.0), ok(joint, "i", 1.0), ok(improve, "i", 0.5)])
    assert [r.candidate_id for r in store.leaderboard(role="destroy")] == [joint, destroy]
    assert [r.candidate_id for r in store.leaderboard(role="repair")] == [joint]
    assert store.leaderboard(role="repai") == []
    assert store.leaderboard(role="destroy")[0].roles == ("destroy", "repair")
    assert [r.candidate_id for r in store.leaderboard(run_id=1)] == [improve, joint, destroy]
    assert store.leaderboard(run_id=2) == []


def test_scores_per_split(store):
    cid, _ = store.add_candidate(cand(1))
    store.add_evaluations([
        ok(cid, "a", 1.0), ok(cid, "b", 3.0), ok(cid, "v", 7.0, split="validation"),
        Evaluation(cid, "w", "validation", "crashed"),
    ])
    scores = store.scores(cid)
    assert list(scores) == ["train", "validation"]
    assert scores["train"].mean_objective == 2.0 and scores["train"].all_ok
    assert scores["validation"].status_counts == {"crashed": 1, "ok": 1}
    assert not scores["validation"].all_ok


def test_lineage_is_the_ancestor_graph(store):
    root, _ = store.add_candidate(cand(0, origin=Origin("seed")))
    left, _ = store.add_candidate(cand(1, parents=(root,), generation=1))
    right, _ = store.add_candidate(cand(2, parents=(root,), generation=1))
    child, _ = store.add_candidate(cand(3, parents=(left, right), generation=2))
    store.add_candidate(cand(4, parents=(child,), generation=3))  # a descendant: not shown
    nodes = store.lineage(child)
    assert [(n.id, n.depth) for n in nodes] == [(child, 0), (left, 1), (right, 1), (root, 2)]
    assert nodes[0].parents == (left, right)
    assert nodes[-1].proposer == "seed" and nodes[-1].parents == ()
    assert [n.id for n in store.lineage(root)] == [root]
    with pytest.raises(NotFoundError):
        store.lineage(999)


def test_llm_calls_are_recorded_and_totalled(store):
    store.record_llm_call("model-a", 100, 50, 0.01, latency=1.5, request_hash="h1")
    # a cached answer carries what it cost when first made: spent then, not now
    store.record_llm_call("model-a", 100, 50, 0.01, cached=True, request_hash="h1")
    store.record_llm_call("model-b", 10, 0, 0.0, status="error", error="rate limited")
    totals = store.llm_totals(store.run.id)
    assert totals == {"calls": 3, "prompt_tokens": 110, "completion_tokens": 50,
                      "cost": 0.01, "cached": 1}
    with pytest.raises(ValueError):
        store.record_llm_call("model-a", -1)


def test_readonly_store_reads_but_refuses_writes(tmp_path):
    with Store.in_run_dir(tmp_path) as s:
        s.create_run("cvrp")
        cid, _ = s.add_candidate(cand(1))
    with Store.in_run_dir(tmp_path, readonly=True) as ro:
        assert ro.get_candidate(cid).source == constant_destroy(1)
        ro.open_run()
        with pytest.raises(StoreError, match="read-only"):
            ro.add_candidate(cand(2))
    with pytest.raises(StoreError, match="no such run directory"):
        Store.in_run_dir(tmp_path / "absent", readonly=True)


def test_pending_work_lists_what_is_not_evaluated(store):
    a, _ = store.add_candidate(cand(1))
    b, _ = store.add_candidate(cand(2))
    store.add_evaluations([ok(a, "i1", 1.0), ok(a, "i2", 1.0), ok(b, "i2", 1.0),
                           ok(b, "i1", 1.0, split="validation")])
    assert pending_work(store, [a, b], ["i1", "i2"]) == [(b, "i1")]
    assert pending_work(store, [b, a, b], ["i1", "i2"], split="validation") == [
        (b, "i2"), (a, "i1"), (a, "i2"),
    ]
    assert pending_work(store, [a], ["i1"], context="partners=repair:2") == [(a, "i1")]


def test_evaluation_context_is_canonical():
    assert evaluation_context() == ""
    assert evaluation_context({"repair": 12, "improve": 3}, seed=1) == (
        "partners=improve:3,repair:12;seed=1"
    )
    with pytest.raises(ValueError):
        evaluation_context(seed="1;2")
