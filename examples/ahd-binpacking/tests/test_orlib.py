"""The OR-Library reader round-trips and refuses malformed files with FILE:LINE messages."""

from __future__ import annotations

import numpy as np
import pytest

from ahd_binpacking.instances import Instance, orlib_uniform
from ahd_binpacking.orlib import read_orlib, write_orlib


def test_round_trip(tmp_path):
    insts = orlib_uniform(120, count=2) + [Instance("decimals", 100, [49.7, 20.25, 30], 1)]
    path = write_orlib(tmp_path / "set.txt", insts)
    back = read_orlib(path)
    assert [i.name for i in back] == ["u120_00", "u120_01", "decimals"]
    for a, b in zip(insts, back, strict=True):
        assert a.capacity == b.capacity and np.array_equal(a.items, b.items)
    assert back[0].best_known is None and back[2].best_known == 1
    assert path.read_text().splitlines()[:3] == ["3", "u120_00", "150 120 0"]


def test_reads_orlib_layout_with_blanks(tmp_path):
    path = tmp_path / "binpack.txt"
    path.write_text(" 1\n u3_00\n 150 3 1\n\n 50\n 60 \n 40\n")
    (inst,) = read_orlib(path)
    assert inst.name == "u3_00" and inst.best_known == 1 and list(inst.items) == [50, 60, 40]


@pytest.mark.parametrize("text, line, words", [
    ("x\n", 1, "number of instances must be a number"),
    ("0\n", 1, "whole number >= 1"),
    ("1 2\n", 1, "first line must be the number of instances"),
    ("1\nname\n150 2\n1\n1\n", 3, "expected 'capacity n_items best_known'"),
    ("1\nname\n150 two 0\n1\n", 3, "n_items must be a number"),
    ("1\nname\n-5 1 0\n1\n", 3, "capacity must be positive"),
    ("1\nname\n150 2 0\n10\nabc\n", 5, "item size must be a number"),
    ("1\nname\n150 2 0\n10\n151\n", 5, "not in (0, capacity 150]"),
    ("1\nname\n150 2 0\n10\n20 30\n", 5, "one item size per line"),
    ("1\nname\n150 3 0\n10\n20\n", 5, "file ends early, expected item 3 of 3 of name"),
    ("1\nname\n150 1 0\n10\nextra\n", 5, "unexpected content after 1 instances"),
    ("2\na\n150 1 0\n10\na\n150 1 0\n10\n", 5, "appears twice"),
    ("1\nname\n150 2 1\n100\n100\n", 3, "below the lower bound"),
    ("1\nname\n150 1 0\nnan\n", 4, "must be finite"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        read_orlib(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message and "\n" not in message


def test_unreadable_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read instance file"):
        read_orlib(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="unique"):
        write_orlib(tmp_path / "x.txt", [Instance("a", 10, [1]), Instance("a", 10, [2])])
