"""Reliability tests: kill -9 crashes, many processes on one home, model-based tests."""
