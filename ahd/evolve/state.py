"""``state.json``: the loop's resume point, read and checked before a resumed run starts.

The loop writes the file atomically after every round (:func:`write_state`), so a kill leaves
either the previous round's file or this one's. A file that is empty, truncated, hand-edited,
or from another run is still possible (a disk that filled during an older ahd's write, a
copy, an editor), and resuming from it would fail later, after the sandbox workers started,
or worse, quietly mix runs. :func:`read_state` and :func:`check_state` refuse such a file with
one line before anything starts, and change nothing on disk.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from ahd.files import write_atomic

STATE_FILE = "state.json"

#: Keys of a state file and the JSON types their values must have.
REQUIRED: dict[str, tuple[type, ...]] = {
    "round": (int,), "population": (dict,), "credit": (dict,), "uses": (dict,),
    "synergy": (list,), "snapshots": (list,), "seed_train": (int, float), "failures": (dict,),
    "spent": (dict,), "rng": (dict,),
}
SNAPSHOT_KEYS = ("round", "members", "fitness")


class StateError(ValueError):
    """A state file that cannot be resumed from (the message is one line)."""


def state_path(run_dir: str | Path) -> Path:
    """Where the loop keeps the state of ``run_dir``."""
    return Path(run_dir) / STATE_FILE


def write_state(run_dir: str | Path, state: Mapping[str, Any], default: Any = None) -> Path:
    """Write ``state`` atomically (a reader, or a resume after a kill, never sees half a file).

    A process killed while writing leaves its temporary file (``.state.json.*.tmp``) behind;
    each successful write removes such leftovers, so kills do not pile them up.
    """
    path = write_atomic(state_path(run_dir), json.dumps(state, default=default))
    for stale in path.parent.glob(f".{STATE_FILE}.*.tmp"):
        stale.unlink(missing_ok=True)
    return path


def read_state(run_dir: str | Path) -> dict[str, Any] | None:
    """The parsed state of ``run_dir``, ``None`` when there is none (killed before round 0
    ended: the run starts over, and what it stored is found again).

    Raises
    ------
    StateError
        Unreadable, empty or not JSON, a missing key or one of the wrong type, or a snapshot
        of a round after the state's round.
    """
    path = state_path(run_dir)
    if not path.exists():
        return None
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"{path}: cannot read the run's state: {exc}") from None
    if not text.strip():
        raise StateError(f"{path}: the run's state file is empty")
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}: the run's state is not valid JSON ({exc.msg}: line "
                         f"{exc.lineno} column {exc.colno}; truncated?)") from None
    if not isinstance(state, dict):
        raise StateError(f"{path}: the run's state is not a JSON object")
    missing = [k for k in REQUIRED if k not in state]
    if missing:
        raise StateError(f"{path}: the run's state lacks {', '.join(missing)}")
    for key, types in REQUIRED.items():
        value = state[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise StateError(f"{path}: {key!r} in the run's state has the wrong type "
                             f"({type(value).__name__})")
    if state["round"] < 0:
        raise StateError(f"{path}: round {state['round']} in the run's state is negative")
    for snap in state["snapshots"]:
        if not isinstance(snap, dict) or any(k not in snap for k in SNAPSHOT_KEYS):
            raise StateError(f"{path}: a snapshot in the run's state lacks "
                             f"{', '.join(SNAPSHOT_KEYS)}")
        if not isinstance(snap["round"], int) or snap["round"] > state["round"]:
            raise StateError(f"{path}: a snapshot of round {snap['round']} in the state of "
                             f"round {state['round']} (the file is inconsistent)")
    return state


def state_ids(state: Mapping[str, Any]) -> set[int]:
    """Every candidate id the state refers to: population, snapshots, requests in flight."""
    ids: set[Any] = set()
    for members in state["population"].values():
        ids.update(members if isinstance(members, list) else [members])
    for snap in state["snapshots"]:
        for members in (snap["members"] or {}).values():
            ids.update(members if isinstance(members, list) else [members])
    for request in (state.get("inflight") or {}).get("requests", []):
        ids.update(parent[0] for parent in request.get("parents", []))
    return ids


def check_state(path: Path, state: Mapping[str, Any], stored: Collection[int]) -> None:
    """Refuse a state whose candidate ids are not all candidates of the run in the store."""
    ids = state_ids(state)
    wrong = sorted(str(i) for i in ids if not isinstance(i, int) or isinstance(i, bool))
    if wrong:
        raise StateError(f"{path}: candidate ids in the run's state that are not integers: "
                         f"{', '.join(wrong[:5])}")
    unknown = sorted(i for i in ids if i not in stored)
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise StateError(f"{path}: the run's state names candidates the store does not hold "
                         f"({shown}); it belongs to another run or store")
