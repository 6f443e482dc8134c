"""Which Host names and web origins the local cloud answers.

Only names that mean this machine are served, so a web page that rebinds its own DNS name to
127.0.0.1 gets nowhere; and no web page of a foreign origin may read what the cloud returns
unless the learner named that origin with ``labkit up --cors-origin``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: What browsers may send and read, for the origins that are allowed.
ALLOWED_METHODS = "GET, PUT, POST, DELETE, HEAD"
EXPOSED_HEADERS = (
    "ETag, x-amz-request-id, x-amz-id-2, x-amzn-RequestId, x-amzn-ErrorType, "
    "x-amz-version-id, x-amz-delete-marker, x-amz-function-error, x-amz-log-result, "
    "x-amz-executed-version, x-amz-crc32"
)
PREFLIGHT_MAX_AGE_S = "600"


def host_name(host: str) -> str:
    """The name part of a Host header (lower case, without the port)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_local_host(host: str) -> bool:
    """True for 127.0.0.1, localhost and [::1], and the S3 virtual-host names under them."""
    name = host_name(host)
    if name in LOCAL_NAMES:
        return True
    return any(
        name.endswith("." + local) and len(name) > len(local) + 1 for local in LOCAL_NAMES[:2]
    )


def host_refusal_message(host: str) -> str:
    shown = host_name(host)[:100] or "(no Host header)"
    return (
        f"The local cloud only answers requests addressed to this machine (127.0.0.1, "
        f"localhost or [::1]); this one was addressed to {shown!r}. Use the endpoint "
        "`labkit env` prints."
    )


def origin_refusal_message(origin: str) -> str:
    shown = origin[:200]
    return (
        f"The local cloud does not answer web pages from {shown}. If you trust that page, "
        f"start the cloud with `labkit up --cors-origin {shown}`."
    )


class Origins:
    """The web origins allowed to call the cloud: its own, and the ones the learner named."""

    def __init__(self, port: int, extra: Iterable[str] = ()) -> None:
        own = {f"http://{name}:{port}" for name in LOCAL_NAMES}
        self.allowed = frozenset(own | {origin.rstrip("/") for origin in extra})

    def allows(self, origin: str) -> bool:
        return origin.rstrip("/") in self.allowed

    def preflight_headers(self, origin: str, headers: Mapping[str, str]) -> dict[str, str]:
        """The answer to an allowed origin's CORS preflight (OPTIONS)."""
        answer = self.response_headers(origin)
        answer["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        requested = headers.get("access-control-request-headers")
        if requested:
            answer["Access-Control-Allow-Headers"] = requested
        answer["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_S
        return answer

    @staticmethod
    def response_headers(origin: str) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
            "Vary": "Origin",
        }
