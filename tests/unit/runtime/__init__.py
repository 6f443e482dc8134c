"""Tests of labkit.runtime, the local Lambda runtime."""
