"""Property tests of the PDDL reader: random damage to a small valid domain or problem gives
:class:`PlanningInputError` (one line starting with the file's path) or a task, never another
exception, whatever the damage: truncation, byte flips (invalid UTF-8, NUL bytes), deleted
lines or characters, repeated tokens, inserted constructs the reader refuses."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pddl_tasks import BLOCKS_DOMAIN, GRIPPER_DOMAIN, GRIPPER_PROBLEM, SWITCHES_DOMAIN, write_pddl

from ahd.planners import PlanningInputError, read_task

SWITCHES_PROBLEM = """
(define (problem s) (:domain switches)
  (:objects kitchen - room)
  (:init (at hall) (door hall kitchen) (door kitchen hall))
  (:goal (and (lit kitchen) (at hall))))
"""
BLOCKS_PROBLEM = """
(define (problem b) (:domain blocksworld)
  (:objects a b c)
  (:init (arm-empty) (on-table a) (on b a) (clear b) (on-table c) (clear c))
  (:goal (and (on a b) (on b c))))
"""
#: (domain, problem) pairs that read without error.
TASKS = [(GRIPPER_DOMAIN, GRIPPER_PROBLEM), (SWITCHES_DOMAIN, SWITCHES_PROBLEM),
         (BLOCKS_DOMAIN, BLOCKS_PROBLEM)]
#: Fragments that break PDDL in ways a byte flip rarely finds.
TOKENS = [b"(", b")", b" - ", b"?x", b":types", b"(not", b"(= ?a ?b)", b"\xff", b"\x00",
          b"\xc3", b"(and)", b"(:requirements :adl)", b"(forall (?x) (p ?x))", b"1.5", b"-",
          b"(either a b)", b"(when (p) (q))", b"(increase (total-cost) 1)", b";", b"\r"]


@st.composite
def damaged(draw, text: str) -> bytes:
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        kind = draw(st.sampled_from(["truncate", "flip", "delete_line", "delete_char",
                                     "insert", "repeat_token"]))
        if kind == "truncate":
            data = data[:draw(st.integers(0, len(data) - 1))]
        elif kind == "flip":
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif kind == "delete_char":
            del data[draw(st.integers(0, len(data) - 1))]
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "delete_line":
            lines = bytes(data).split(b"\n")
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = bytearray(b"\n".join(lines))
        else:
            tokens = bytes(data).split(b" ")
            i, j = (draw(st.integers(0, len(tokens) - 1)) for _ in range(2))
            tokens[i] = tokens[j]
            data = bytearray(b" ".join(tokens))
    return bytes(data)


def test_the_undamaged_tasks_read(tmp_path):
    for domain, problem in TASKS:
        task = read_task(*write_pddl(tmp_path, domain, problem))
        assert task.goal


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(task=st.sampled_from(TASKS), which=st.sampled_from([0, 1]), data=st.data())
def test_damaged_pddl_gives_the_parse_error_type_only(tmp_path, task, which, data):
    paths = write_pddl(tmp_path, *task)
    target: Path = paths[which]
    broken = data.draw(damaged(task[which]), label="file")
    target.write_bytes(broken)
    try:
        read_task(*paths)
    except PlanningInputError as exc:
        message = str(exc)
        assert "\n" not in message
        # the damaged file is named; a domain renamed by the damage is reported from the
        # problem's side ("p.pddl: problem is for domain 'gripper' but d.pddl defines ...")
        assert message.startswith(str(target)) or (
            which == 0 and message.startswith(str(paths[1])) and str(target) in message)
    assert target.read_bytes() == broken  # reading never touches the file
