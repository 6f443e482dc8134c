"""ClientRequestToken for TransactWriteItems, as DynamoDB honours it.

A token stays valid for 10 minutes after the first call that used it completed. Within that time
a repeat with the same request has no effect and succeeds again; the same token with a different
request fails with IdempotentParameterMismatchException. A call that failed leaves no token.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TOKEN_LIFETIME_SECONDS = 600.0


def request_fingerprint(request: dict[str, Any]) -> str:
    """A digest of everything in the request except the token itself."""
    without_token = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    canonical = json.dumps(without_token, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Remembered:
    fingerprint: str
    completed_at: float
    response: bytes


class Mismatch(Exception):
    """The token was used within its lifetime for a different request."""


class TokenStore:
    """Tokens of completed transactions, per account, for their lifetime."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], Remembered] = {}

    def lookup(self, account: str, token: str, fingerprint: str) -> bytes | None:
        """The stored response of a completed repeat, None if new; raises Mismatch."""
        with self._lock:
            self._expire()
            found = self._tokens.get((account, token))
        if found is None:
            return None
        if found.fingerprint != fingerprint:
            raise Mismatch(token)
        return found.response

    def remember(self, account: str, token: str, fingerprint: str, response: bytes) -> None:
        with self._lock:
            self._tokens[(account, token)] = Remembered(fingerprint, self._clock(), response)

    def _expire(self) -> None:
        horizon = self._clock() - TOKEN_LIFETIME_SECONDS
        for key in [k for k, v in self._tokens.items() if v.completed_at < horizon]:
            del self._tokens[key]

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            self._expire()
            return {"tokens": dict(self._tokens)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._clock = time.time
        self._lock = threading.Lock()
        self._tokens = state["tokens"]
