"""Plain data that crosses the runtime's public boundary: what to run and what came back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: Runtimes a function may declare. Whatever the declared version, every handler runs on the
#: interpreter that runs labkit (``sys.executable``); the name only shows up in
#: ``AWS_EXECUTION_ENV`` and in the logs.
SUPPORTED_RUNTIMES: frozenset[str] = frozenset(
    {"python3.9", "python3.10", "python3.11", "python3.12", "python3.13"}
)

MIN_TIMEOUT_S = 1
MAX_TIMEOUT_S = 900
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the runtime needs to know about one function version."""

    name: str
    arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    code_sha256: str
    code_zip: Callable[[], bytes] | bytes = field(repr=False, compare=False)
    environment: Mapping[str, str]
    region: str
    version: str = "$LATEST"
    log_group: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("FunctionSpec.name must not be empty")
        if not MIN_TIMEOUT_S <= self.timeout <= MAX_TIMEOUT_S:
            raise ValueError(
                f"FunctionSpec.timeout must be {MIN_TIMEOUT_S}..{MAX_TIMEOUT_S} s, "
                f"got {self.timeout}"
            )
        if not MIN_MEMORY_MB <= self.memory_size <= MAX_MEMORY_MB:
            raise ValueError(
                f"FunctionSpec.memory_size must be {MIN_MEMORY_MB}..{MAX_MEMORY_MB} MB, "
                f"got {self.memory_size}"
            )
        if not self.code_sha256:
            raise ValueError("FunctionSpec.code_sha256 must not be empty")

    @property
    def log_group_name(self) -> str:
        """The CloudWatch Logs group the function writes to."""
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def invoked_arn(self) -> str:
        """The ARN a caller used: unqualified for ``$LATEST``, else qualified with the version."""
        if self.version == "$LATEST":
            return self.arn
        return f"{self.arn}:{self.version}"


@dataclass(frozen=True)
class LogLine:
    """One CloudWatch Logs event: epoch milliseconds and the text (without trailing newline)."""

    timestamp_ms: int
    message: str


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one invocation, shaped like Lambda's Invoke response plus its log lines."""

    request_id: str
    payload: bytes
    function_error: str | None
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    log_stream: str
    log_lines: tuple[LogLine, ...]
    timed_out: bool
    executed_version: str
    init_duration_ms: float | None

    @property
    def ok(self) -> bool:
        """True when the handler returned a value (no function error)."""
        return self.function_error is None
