"""Property tests of a store file cut short (a full disk, a copy interrupted, a crash of the
machine): opening it, read-only or read-write, gives :class:`StoreError` or a store whose rows
are a subset of the original's, never another exception and never invented rows."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from operator_sources import RANDOM_DESTROY

from ahd.candidate import Candidate, Origin
from ahd.store import Evaluation, Store, StoreError

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
#: SQLite's page size in the stores ahd writes; cuts inside the last page are the ones sqlite
#: notices only when a query reaches that page, so the offsets favour them.
PAGE = 4096


@dataclass(frozen=True)
class Original:
    """The finished store's file and every row it returns (kept out of hypothesis's reports)."""

    path: Path
    rows: set[tuple] = field(repr=False)


def _rows(store: Store) -> set[tuple]:
    """Every candidate and evaluation the store returns, as comparable tuples."""
    store.open_run()
    out: set[tuple] = set()
    for cid in store.candidate_ids():
        out.add(("candidate", cid, store.get_candidate(cid).source))
        for e in store.evaluations_for(cid):
            out.add(("evaluation", cid, e.instance, e.split, e.status, e.objective))
    return out


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Original:
    """A finished run with 30 candidates, 10 evaluations each and one LLM call: several pages
    of every table, so a cut can fall anywhere in any of them."""
    run_dir = tmp_path_factory.mktemp("finished")
    with Store.in_run_dir(run_dir) as store:
        store.create_run("cvrp", {"time": 1}, seed=0, versions={})
        for i in range(30):
            source = RANDOM_DESTROY + f"\n# variant {i}\n" + "LIMIT = 1\n" * (5 * i)
            cid, _ = store.add_candidate(
                Candidate(source, ("destroy",), "cvrp", origin=Origin("seed")))
            store.add_evaluations([Evaluation(cid, f"X-n{j}", "train", "ok", 1.0 + i + j)
                                   for j in range(10)])
        store.record_llm_call("some-model", 100, 20, 0.001, 1.5)
        store.set_run_status("finished")
    assert not (run_dir / "ahd.sqlite-wal").exists()  # checkpointed: one self-contained file
    with Store.in_run_dir(run_dir, readonly=True) as store:
        rows = _rows(store)
    assert len(rows) == 30 + 300
    return Original(run_dir / "ahd.sqlite", rows)


def _offsets(size: int):
    """Anywhere in the file, or (as often) in its last two pages."""
    return st.one_of(st.integers(0, size - 1), st.integers(max(0, size - 2 * PAGE), size - 1))


def _cut_copy(original: Original, folder: Path, offset: int) -> Path:
    run_dir = folder / f"cut-{offset}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    (run_dir / "ahd.sqlite").write_bytes(original.path.read_bytes()[:offset])
    return run_dir


@settings(SETTINGS, report_multiple_bugs=False,
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data(), readonly=st.booleans())
def test_a_cut_store_reads_or_raises_store_error_and_never_invents_rows(
        tmp_path, original, data, readonly):
    offset = data.draw(_offsets(original.path.stat().st_size), label="offset")
    run_dir = _cut_copy(original, tmp_path, offset)
    try:
        with Store.in_run_dir(run_dir, readonly=readonly) as store:
            rows = _rows(store)
    except StoreError as exc:
        assert "\n" not in str(exc)
        return
    assert rows <= original.rows
