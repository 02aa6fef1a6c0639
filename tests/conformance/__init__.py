"""The shared ThreadStore conformance suite: every backend in `tests/conftest.py` runs it."""
