"""One lock serialises every access to moto's backends, which are not thread-safe."""

from __future__ import annotations

import threading

MOTO_LOCK = threading.RLock()
