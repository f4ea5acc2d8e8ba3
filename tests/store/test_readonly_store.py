"""A store opened read-only writes nothing, not even beside its file, and refuses writes.

The viewers' side (read-only directories, damaged files) is in
``tests/commands/test_readonly_viewers.py``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from operator_sources import constant_destroy

from ahd.candidate import Candidate
from ahd.store import (
    STORE_FILENAME,
    Evaluation,
    ReadOnlyStoreError,
    Store,
    StoreError,
    read_only_uri,
)


def cand(value: int) -> Candidate:
    return Candidate(constant_destroy(value), ("destroy",), "cvrp")


def listing(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


@pytest.fixture
def closed_run(tmp_path: Path) -> Path:
    """A run directory whose store was written and closed (a finished run)."""
    with Store.in_run_dir(tmp_path / "run") as store:
        store.create_run("cvrp", versions={})
        cid, _ = store.add_candidate(cand(1))
        store.add_evaluations([Evaluation(cid, "X-n101", "train", "ok", 2.0)])
    return tmp_path / "run"


def test_reading_a_closed_store_leaves_no_files_beside_it(closed_run):
    before = listing(closed_run)
    assert before.keys() == {STORE_FILENAME}
    assert read_only_uri(closed_run / STORE_FILENAME).endswith("?mode=ro&immutable=1")
    with Store.in_run_dir(closed_run, readonly=True) as store:
        store.open_run()
        assert store.leaderboard()[0].mean_objective == 2.0
        assert listing(closed_run) == before  # no -wal, no -shm, even while open
    assert listing(closed_run) == before


def test_every_write_through_a_read_only_store_is_refused(closed_run):
    before = listing(closed_run)
    with Store.in_run_dir(closed_run, readonly=True) as store:
        run = store.open_run()
        writes = [
            lambda: store.create_run("cvrp"),
            lambda: store.add_candidate(cand(2)),
            lambda: store.add_evaluations([Evaluation(1, "X-n106", "train", "ok", 1.0)]),
            lambda: store.set_run_status("finished"),
            lambda: store.record_llm_call("model", 1, 1, 0.0),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyStoreError, match="open read-only"):
                write()
        assert isinstance(ReadOnlyStoreError("x"), StoreError)  # callers catching StoreError
        # Around the API too: SQLite itself refuses, the connection is read-only.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("UPDATE runs SET status = 'failed'")
        assert store.open_run(run.id).status == "running"
    assert listing(closed_run) == before


def test_a_store_being_written_is_read_through_its_wal(closed_run):
    """While a writer has the store open, committed data may be only in the ``-wal`` file:
    the reader must not be immutable then, and sees each new commit."""
    with Store.in_run_dir(closed_run) as writer:
        writer.open_run()
        second, _ = writer.add_candidate(cand(2))
        assert "immutable" not in read_only_uri(closed_run / STORE_FILENAME)
        with Store.in_run_dir(closed_run, readonly=True) as reader:
            assert reader.get_candidate(second).source == constant_destroy(2)
            third, _ = writer.add_candidate(cand(3))
            assert reader.get_candidate(third).source == constant_destroy(3)


def test_an_empty_file_is_not_a_store(tmp_path):
    empty = tmp_path / STORE_FILENAME
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="an empty database, not an ahd store"):
        Store(empty, readonly=True)
    assert empty.read_bytes() == b"" and [p.name for p in tmp_path.iterdir()] == [empty.name]
