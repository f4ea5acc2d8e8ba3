"""LLM replies without usable code: ``ahd evolve --model`` sends each back to the model once
with the extractor's feedback, admits nothing from it, and finishes the run normally (exit 0,
no traceback, no ``error:`` line), its store and summary intact.

One real evolution (planning, the cheapest problem to score) runs against a local scripted
OpenAI-compatible server; each first request of a proposal gets one of the replies below, each
re-ask a reply without code too. The cases then check, reply by reply, that it was recognised
as holding no code: the next request of its conversation quotes it and carries the feedback.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from llm_server import Reply, ScriptedLLMServer
from pddl_tasks import GRIPPER_DOMAIN, GRIPPER_PROBLEM
from robust_cli import assert_clean_success, invoke

from ahd.llm import strip_think

#: id -> reply text (none defines the planning entry point ``h``)
REPLIES = {
    "prose": "I would count the balls that are not in their goal room yet.",
    "reasoning_only": "<think>def h(state, task):\n    return len(state)</think>Not sure.",
    "json_block": '```json\n{"h": "count goals"}\n```',
    "bash_block": "```bash\npip install pddl\n```",
    "code_without_entry_point": "```python\ndef helper(x):\n    return x + 1\n```",
    "unclosed_fence_without_h": "```python\nimport math\nWEIGHT = 2\n",
    "tilde_fence_wrong_name": "~~~python\ndef heuristic(state, task):\n    return 0\n~~~",
}
ORDER = sorted(REPLIES)
RE_ASK_REPLY = "Sorry, I still have no code for you."


class _Responder:
    """First requests get the replies of :data:`REPLIES` in turn; re-asks get prose."""

    def __init__(self) -> None:
        self.first = 0
        self.lock = threading.Lock()

    def __call__(self, messages: list[dict]) -> Reply:
        if any(m["role"] == "assistant" for m in messages):
            return Reply(RE_ASK_REPLY)
        with self.lock:
            text = REPLIES[ORDER[self.first % len(ORDER)]]
            self.first += 1
        return Reply(text)


def _visible(text: str) -> str:
    return strip_think(text).strip()


@pytest.fixture(scope="module")
def no_code_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm")
    domain = root / "gripper"
    (domain / "training").mkdir(parents=True)
    (domain / "domain.pddl").write_text(GRIPPER_DOMAIN)
    for name in ("p01.pddl", "p02.pddl"):
        (domain / "training" / name).write_text(GRIPPER_PROBLEM)
    run_dir = root / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        with ScriptedLLMServer(_Responder()) as server:
            outcome = invoke([
                "evolve", "--problem", "planning", "--domain", domain, "--rounds", "1",
                "--offspring", str(len(REPLIES)), "--jobs", "1", "--concurrency", "1",
                "--no-overlap", "--time", "5m", "--model", "openai/scripted",
                "--api-base", server.url, "--out", run_dir,
            ])
            requests = list(server.requests)
    return outcome, requests, run_dir


@pytest.mark.slow
@pytest.mark.parametrize("case", ORDER)
def test_a_reply_without_code_is_sent_back_and_admits_nothing(no_code_run, case):
    outcome, requests, run_dir = no_code_run
    assert_clean_success(outcome)
    reply = _visible(REPLIES[case])  # the client keeps reasoning out of the conversation
    followed = [r["messages"] for r in requests
                if any(m["role"] == "assistant" and _visible(m["content"]) == reply
                       for m in r["messages"])]
    assert len(followed) == 1, f"{case}: re-asked {len(followed)} times"
    conversation = followed[0]
    at = next(i for i, m in enumerate(conversation)
              if m["role"] == "assistant" and _visible(m["content"]) == reply)
    feedback = conversation[at + 1]
    assert feedback["role"] == "user" and "h" in feedback["content"]  # names the entry point
    with sqlite3.connect(run_dir / "ahd.sqlite") as conn:
        sources = [row[0] for row in conn.execute("SELECT source FROM candidates")]
        calls = conn.execute("SELECT count(*), sum(status = 'ok') FROM llm_calls").fetchone()
    conn.close()
    assert not any("helper" in s or "WEIGHT" in s or "def heuristic" in s for s in sources)
    assert calls == (2 * len(REPLIES), 2 * len(REPLIES))  # each reply and its re-ask
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary  # the run finished and summarised itself
    assert "exported winner" not in outcome.stdout  # nothing evolved to export
