"""LLM access for heuristic design: a litellm client with retries, cache and replay, and code
extraction from replies.

Importing this package is cheap: litellm itself is imported on the first real request.
"""

from ahd.llm.cache import ResponseCache
from ahd.llm.client import CallRecord, LLMClient, LLMConfig, LLMError, LLMReply, ReplayMiss
from ahd.llm.extract import NoCodeError, extract_code, strip_fences, strip_think

__all__ = [
    "CallRecord",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "LLMReply",
    "NoCodeError",
    "ReplayMiss",
    "ResponseCache",
    "extract_code",
    "strip_fences",
    "strip_think",
]
