"""psycopg exceptions → the store's typed errors, in one place.

Nothing else in the backend inspects driver exceptions: `classify` says whether a
failure may be retried (a dropped connection, a restarting server, a serialization
failure) and `translate` turns any driver error into one of ours, chained with
`from` so the driver's detail stays in the traceback.
"""

from __future__ import annotations

import enum

import psycopg
import psycopg_pool

from ..errors import Internal, InvalidRequest, ResourceExhausted, ThreadStoreError, Unavailable

__all__ = ["Fault", "StoreUnavailable", "classify", "translate"]


class StoreUnavailable(Unavailable):
    """PostgreSQL could not be reached (or kept dropping the connection) for longer than
    the retry deadline. Nothing half-written is visible; retrying later is safe."""


class Fault(enum.Enum):
    CONNECTION = "connection"  # the session is gone; a new connection may succeed
    CONFLICT = "conflict"  # serialization failure or deadlock; rerun the transaction
    FATAL = "fatal"  # retrying cannot help


# SQLSTATE classes and codes that mean "the server or the session went away".
_CONNECTION_CLASSES = ("08",)  # connection exception
_CONNECTION_CODES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping (a restart)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the server is starting up or in recovery
        "53300",  # too_many_connections: transient while other clients reconnect
        "25P03",  # idle_in_transaction_session_timeout killed our session
    }
)
_CONFLICT_CODES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_RESOURCE_CLASSES = ("53", "54")  # insufficient resources, program limit exceeded


def classify(exc: BaseException) -> Fault:
    """Whether `exc` (a psycopg or pool error) is worth retrying on a fresh connection."""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return Fault.CONNECTION
    if not isinstance(exc, psycopg.Error):
        return Fault.FATAL
    state = exc.sqlstate
    if state is None:
        # No SQLSTATE: libpq lost the socket (server killed, network cut, restart).
        return Fault.CONNECTION if isinstance(exc, psycopg.OperationalError) else Fault.FATAL
    if state in _CONFLICT_CODES:
        return Fault.CONFLICT
    if state in _CONNECTION_CODES or state.startswith(_CONNECTION_CLASSES):
        return Fault.CONNECTION
    return Fault.FATAL


def translate(exc: BaseException, *, server: str, what: str) -> ThreadStoreError:
    """The typed error for a driver failure that will not be (or no longer be) retried."""
    if isinstance(exc, ThreadStoreError):
        return exc
    fault = classify(exc)
    detail = _detail(exc)
    if fault is not Fault.FATAL:
        return StoreUnavailable(
            f"{what} could not reach PostgreSQL at {server} ({detail}); nothing was half-written. "
            "Check that the server is running and reachable, then retry"
        )
    state = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    if isinstance(exc, psycopg.DataError) or (state is not None and state.startswith("22")):
        # A value PostgreSQL cannot take (text with NUL, an out-of-range number): the
        # request is at fault, and nothing was written (the transaction rolled back).
        return InvalidRequest(f"PostgreSQL cannot store a value of {what}: {detail}")
    if state is not None and state.startswith(_RESOURCE_CLASSES):
        return ResourceExhausted(
            f"PostgreSQL at {server} refused {what}: {detail}. Free space or raise the "
            "server's limits, or store smaller items"
        )
    return Internal(
        f"{what} failed in PostgreSQL at {server}: {detail}"
        + (f" (SQLSTATE {state})" if state else "")
        + ". This is a bug or a schema mismatch; report it with this message"
    )


def _detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__
