"""`paused_gc`: the collector is off inside, back as it was after, nested and across
threads; an error inside still restores it."""

from __future__ import annotations

import gc
import threading

import pytest

from codex_thread_store.gc_pause import paused_gc


def test_paused_then_restored() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_restored_after_an_error() -> None:
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads() -> None:
    inside, release = threading.Event(), threading.Event()

    def worker() -> None:
        with paused_gc():
            inside.set()
            release.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait()
    with paused_gc():
        pass
    assert not gc.isenabled()  # the worker's pause is still on
    release.set()
    thread.join()
    assert gc.isenabled()
