"""Candidate code files for numba's cache: written once, whoever writes them at the same time."""

from __future__ import annotations

import threading

from ahd.problems.child import code_file

CODE = "def destroy(inst, sol, n_remove, removed):\n    return 0\n"


def test_threads_writing_the_same_code_at_once(tmp_path):
    paths, errors = [], []
    start = threading.Barrier(8)

    def write() -> None:
        start.wait()
        try:
            paths.append(code_file(str(tmp_path), CODE))
        except OSError as exc:  # the race this test is for
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(paths)) == 1
    with open(paths[0], encoding="utf-8") as handle:
        assert handle.read() == CODE
    assert sorted(p.name for p in (tmp_path / "code").iterdir()) == [paths[0].split("/")[-1]]
