"""LLM access for heuristic design: a litellm client with retries, cache and replay, hard
budget caps, and code extraction from replies.

Importing this package is cheap: litellm itself is imported on the first real request.
"""

from ahd.llm.budget import LLMBudget, Usage
from ahd.llm.cache import ResponseCache
from ahd.llm.client import CallRecord, LLMClient, LLMConfig, LLMError, LLMReply, ReplayMiss
from ahd.llm.extract import NoCodeError, extract_code, strip_fences, strip_think
from ahd.llm.results import BudgetExceeded, CallStats, LLMConfigError

__all__ = [
    "BudgetExceeded",
    "CallRecord",
    "CallStats",
    "LLMBudget",
    "LLMClient",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMReply",
    "NoCodeError",
    "ReplayMiss",
    "ResponseCache",
    "Usage",
    "extract_code",
    "strip_fences",
    "strip_think",
]
