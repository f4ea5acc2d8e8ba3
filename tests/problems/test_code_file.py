"""Candidate code files for numba's cache: written once, whoever writes them at the same time."""

from __future__ import annotations

import threading

from ahd.problems.child import code_file, load_source, may_compile

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


def test_may_compile_until_numba_has_cached_the_candidate_beside_its_file(tmp_path):
    """What decides whether a sandbox worker compiles its prewarm before a request: candidate
    code with no cache beside its content-named file may compile; once numba has cached it
    there, or when every operator is built in, it does not."""
    import numba

    code = "def bump(x):\n    return x + 1\n"
    path = code_file(str(tmp_path), code)
    payload = {"operators": {"destroy": [{"registry": "random_removal"},
                                         {"source": code, "entry": "bump", "path": path}]}}
    assert may_compile(payload)
    assert may_compile({"operators": {"destroy": [{"source": code, "entry": "bump"}]}})
    assert not may_compile({"operators": {"destroy": [{"registry": "random_removal"}]}})
    module, _ = load_source(code, path)
    assert numba.njit(cache=True)(module.bump)(1) == 2  # numba writes its cache beside path
    assert not may_compile(payload)
