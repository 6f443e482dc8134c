"""Lab 4, notebook 06: counters uploaded to S3, aggregated through SNS, Lambda and a stream."""

from __future__ import annotations

from .part import PART

__all__ = ["PART"]
