"""The knobs of one ``corefn run``, in one frozen value every part of the runtime reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: API Gateway's integration timeout: a request still running after 29 s gets a 504
DEFAULT_HTTP_TIMEOUT = 29.0
#: Lambda's synchronous payload limit (API Gateway's own is 10 MB; the function's is smaller)
DEFAULT_MAX_BODY = 6 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """``max_attempts`` applies to handlers that do not declare their own (5, Azure Queue
    Storage's default ``maxDequeueCount``); ``retry_delay`` is the first back-off, doubled at each failed attempt up to
    ``retry_cap``; ``visibility`` is how long a claimed delivery stays invisible beyond the
    handler's timeout; ``poll`` is how often workers look for messages published by other
    processes (writes from this process wake them at once)."""

    state: Path
    host: str = "127.0.0.1"
    port: int = 8000
    until_idle: bool = False
    max_attempts: int = 5
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    max_body: int = DEFAULT_MAX_BODY
    retry_delay: float = 0.5
    retry_cap: float = 60.0
    visibility: float = 30.0
    poll: float = 0.2
    concurrency: int = 4
    idle_grace: float = 0.5

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: retry_delay, 2×, 4×, … capped."""
        return float(min(self.retry_cap, self.retry_delay * (2 ** max(0, attempt - 1))))
