"""A scripted, OpenAI-compatible chat-completions server for tests that must not touch a network.

The LLM client is tested through the real litellm stack (HTTP, retries, error mapping, usage
parsing) rather than a mock, because what breaks in practice is exactly that stack: a status code
litellm maps to an unexpected exception class, a usage block it does not read, a retry it performs
behind our back. :class:`ScriptedLLMServer` speaks just enough of the OpenAI protocol for litellm
(``model="openai/NAME"``, ``api_base=server.url``, ``api_key="test"``) and answers from a script, so
tests can stage rate limits, server errors and slow replies deterministically.

Import it from any test module (``tests/conftest.py`` puts ``tests/helpers`` on ``sys.path``)::

    from llm_server import Reply, ScriptedLLMServer, Status
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Reply", "ScriptedLLMServer", "Status", "Step"]

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class Reply:
    """A successful chat completion.

    Parameters
    ----------
    text
        The assistant message content.
    prompt_tokens, completion_tokens
        Reported in ``usage``; tests assert that these reach the store unchanged (the server
        sums what it reported in :attr:`ScriptedLLMServer.reported`).
    delay
        Seconds to sleep before answering, to provoke client timeouts or overlap requests.
    finish_reason
        ``"stop"`` normally; ``"length"`` imitates a reply cut off at ``max_tokens``.
    report_usage
        ``False`` leaves the ``usage`` block out, as some local servers do.
    """

    text: str
    prompt_tokens: int = 10
    completion_tokens: int = 5
    delay: float = 0.0
    finish_reason: str = "stop"
    report_usage: bool = True


@dataclass(frozen=True)
class Status:
    """An HTTP error answer in OpenAI's error format.

    Parameters
    ----------
    code
        HTTP status, e.g. 429, 500, 503, 401.
    retry_after
        Sent as a ``Retry-After`` header (seconds) when not ``None``.
    message
        Error message; ``{api_key}`` is replaced by the bearer token the request carried, to
        imitate providers that echo (part of) a wrong key back, so tests can check redaction.
    delay
        Seconds to sleep before answering.
    """

    code: int
    retry_after: float | None = None
    message: str = ""
    delay: float = 0.0


Step = Reply | Status

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


class ScriptedLLMServer:
    """OpenAI-compatible chat-completions endpoint on ``127.0.0.1`` answering from a script.

    Parameters
    ----------
    script
        Either a sequence of :class:`Reply`/:class:`Status` steps consumed one per request, in
        arrival order, or a callable ``responder(messages) -> step`` that picks the answer from
        the prompt (useful when requests run concurrently and arrival order is not fixed).
    default
        Once a list script is exhausted, ``default(messages) -> text`` answers; without it the
        server answers 503, so a test that makes more requests than it scripted fails loudly
        (after the client's retries) instead of hanging.
    delay
        Seconds every request sleeps inside the handler (on top of a step's own delay), so that
        concurrent requests overlap and :attr:`max_in_flight` measures the client's concurrency.

    Attributes
    ----------
    requests
        Every request body received (parsed JSON), in arrival order.
    authorizations
        The ``Authorization`` header of every request, in arrival order.
    max_in_flight
        The largest number of requests that were being handled at the same moment.
    reported
        ``{"prompt_tokens": n, "completion_tokens": m, "replies": k}``: the usage this server
        reported, summed over the ``k`` successful replies it sent, to compare with what the
        client and the store counted.
    """

    def __init__(
        self,
        script: Iterable[Step] | Callable[[Messages], Step] = (),
        default: Callable[[Messages], str] | None = None,
        delay: float = 0.0,
    ) -> None:
        if callable(script):
            self._responder: Callable[[Messages], Step] | None = script
            self._steps: list[Step] = []
        else:
            self._responder = None
            self._steps = list(script)
        self._default = default
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.max_in_flight = 0
        self.reported = {"prompt_tokens": 0, "completion_tokens": 0, "replies": 0}
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() quick (it waits for the serving loop to notice).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="scripted-llm-server",
            daemon=True,
        )
        self._thread.start()
        self._stopped = False

    @property
    def url(self) -> str:
        """Base URL to pass as litellm's ``api_base`` (``http://127.0.0.1:PORT/v1``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        """Stop serving and close the socket; later connections are refused. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLLMServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- called from handler threads ---------------------------------------------------------

    def _enter(self, body: dict[str, Any], authorization: str) -> Step:
        with self._lock:
            self.requests.append(body)
            self.authorizations.append(authorization)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            if self._responder is None and self._steps:
                return self._steps.pop(0)
        messages = body.get("messages") or []
        if self._responder is not None:
            return self._responder(messages)
        if self._default is not None:
            return Reply(self._default(messages))
        return Status(503, message="scripted server: script exhausted")

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _reported(self, step: Reply) -> None:
        with self._lock:
            self.reported["replies"] += 1
            if step.report_usage:
                self.reported["prompt_tokens"] += step.prompt_tokens
                self.reported["completion_tokens"] += step.completion_tokens


def _completion(body: dict[str, Any], step: Reply) -> dict[str, Any]:
    """Build an OpenAI ``chat.completion`` object for ``step``."""
    completion = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model", "scripted")),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": step.text},
                "finish_reason": step.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": step.prompt_tokens,
            "completion_tokens": step.completion_tokens,
            "total_tokens": step.prompt_tokens + step.completion_tokens,
        },
    }
    if not step.report_usage:
        del completion["usage"]
    return completion


def _error(step: Status, api_key: str) -> dict[str, Any]:
    """Build an OpenAI error body for ``step``."""
    message = (step.message or f"scripted error {step.code}").replace("{api_key}", api_key)
    kind = _ERROR_TYPES.get(step.code, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _make_handler(server: ScriptedLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"error": {"message": "request body is not JSON"}})
                return
            authorization = self.headers.get("Authorization", "")
            step = server._enter(body, authorization)
            try:
                time.sleep(server.delay + step.delay)
                if isinstance(step, Reply):
                    if self._send(200, _completion(body, step)):
                        server._reported(step)
                else:
                    key = authorization.removeprefix("Bearer ").strip()
                    headers = {}
                    if step.retry_after is not None:
                        headers["Retry-After"] = f"{step.retry_after:g}"
                    self._send(step.code, _error(step, key), headers)
            finally:
                server._leave()

        def _send(
            self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> bool:
            """Send the answer; ``False`` if the client had hung up."""
            data = json.dumps(payload).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                # No keep-alive: after stop() no pooled connection may still reach a handler.
                self.send_header("Connection", "close")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):
                return False  # the client gave up (timeout); nothing to tell it
            return True

    return Handler
