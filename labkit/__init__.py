"""labkit: a workshop kit for serverless stream processing with DynamoDB Streams and Lambda."""

from __future__ import annotations

from .session import IdleTimeout, Lab

__all__ = ["IdleTimeout", "Lab"]
__version__ = "0.1.0"
