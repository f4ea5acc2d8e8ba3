from ahd.problems._numba_cache import clear_stale_caches


def test_caches_are_cleared_exactly_when_a_source_changes(tmp_path):
    for pkg in ("engine", "operators"):
        (tmp_path / pkg / "__pycache__").mkdir(parents=True)
        (tmp_path / pkg / "mod.py").write_text("x = 1\n")
    stale = tmp_path / "engine" / "__pycache__" / "lns._search-1.py311.nbi"

    stale.write_text("old")
    assert clear_stale_caches(tmp_path)
    assert not stale.exists()

    stale.write_text("fresh")
    assert not clear_stale_caches(tmp_path)
    assert stale.exists()

    (tmp_path / "operators" / "mod.py").write_text("x = 2\n")
    assert clear_stale_caches(tmp_path)
    assert not stale.exists()
