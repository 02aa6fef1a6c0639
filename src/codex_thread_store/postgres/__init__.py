"""`PostgresThreadStore`: threads in PostgreSQL (psycopg 3), many owners per database.

Needs the `postgres` extra: `pip install 'codex-thread-store[postgres]'`.
"""

from .config import PostgresThreadStoreConfig
from .errors import StoreUnavailable
from .leases import LeaseLost
from .store import PostgresThreadStore

__all__ = ["LeaseLost", "PostgresThreadStore", "PostgresThreadStoreConfig", "StoreUnavailable"]
