"""The schema, as numbered migrations applied automatically when a store opens.

Safe when many processes open stores at once: all of them take one transaction-level
advisory lock, so exactly one applies what is missing and the others find it done.
Each migration runs in the same transaction as its `schema_migrations` row, so a
crash leaves either the whole migration or none of it. Released migrations are never
edited; a change is a new migration.

Every table carries `owner` as the first key column, and every index starts with
it, so one database holds many tenants and no query can reach across them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..errors import Internal
from .db import Conn
from .errors import Fault, classify

__all__ = ["MIGRATIONS", "Migration", "apply_migrations", "current_version"]

# One lock for every schema in the database: creating the shared pg_trgm extension
# from two schemas at once would race too, and migrations are rare enough to queue.
_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"codex_thread_store.migrations").digest()[:8], "big", signed=True
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str  # `{trgm}` is replaced by the schema holding the pg_trgm extension

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


_V1 = """
CREATE SEQUENCE lease_tokens;

-- One row per thread: every StoredThread field as a column. `materialized` is false
-- while a new thread is only lazily written (Codex writes no rollout before then);
-- such rows are visible only to the store instance that owns them.
CREATE TABLE threads (
    owner               text NOT NULL,
    thread_id           text COLLATE "C" NOT NULL,
    session_id          text NOT NULL,
    rollout_path        text,
    forked_from_id      text,
    parent_thread_id    text COLLATE "C",
    preview             text NOT NULL,
    name                text,
    model_provider      text NOT NULL,
    model               text,
    reasoning_effort    text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    recency_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    archived            boolean GENERATED ALWAYS AS (archived_at IS NOT NULL) STORED,
    cwd                 text NOT NULL,
    cli_version         text NOT NULL,
    source              text NOT NULL,
    source_kind         text NOT NULL,
    history_mode        text NOT NULL,
    thread_source       text,
    originator          text,
    agent_nickname      text,
    agent_role          text,
    agent_path          text,
    git_info            jsonb,
    approval_mode       jsonb,
    permission_profile  jsonb,
    token_usage         jsonb,
    first_user_message  text,
    memory_mode         text,
    meta_search         text NOT NULL,
    materialized        boolean NOT NULL,
    PRIMARY KEY (owner, thread_id)
);
-- Keyset listing: (owner, archived) then the sort key and the id tie-break.
CREATE INDEX threads_by_created_at ON threads (owner, archived, created_at, thread_id);
CREATE INDEX threads_by_updated_at ON threads (owner, archived, updated_at, thread_id);
CREATE INDEX threads_by_recency_at ON threads (owner, archived, recency_at, thread_id);
CREATE INDEX threads_by_cwd ON threads (owner, cwd, archived, created_at);
CREATE INDEX threads_by_model_provider ON threads (owner, model_provider);
CREATE INDEX threads_by_source ON threads (owner, source);
CREATE INDEX threads_by_source_kind ON threads (owner, source_kind);
CREATE INDEX threads_by_parent ON threads (owner, parent_thread_id)
    WHERE parent_thread_id IS NOT NULL;
CREATE INDEX threads_by_rollout_path ON threads (owner, rollout_path)
    WHERE rollout_path IS NOT NULL;
-- Case-folded name / preview / first user message; trigrams give substring search.
CREATE INDEX threads_meta_search ON threads USING gin (meta_search {trgm}.gin_trgm_ops);

-- History: append-only, one row per canonical item, `seq` dense from 0 (session_meta).
CREATE TABLE thread_items (
    owner         text NOT NULL,
    thread_id     text COLLATE "C" NOT NULL,
    seq           bigint NOT NULL,
    kind          text NOT NULL,
    payload_type  text,
    created_at    timestamptz NOT NULL,
    payload       bytea NOT NULL,
    search_text   text,
    PRIMARY KEY (owner, thread_id, seq)
);
CREATE INDEX thread_items_search ON thread_items USING gin (search_text {trgm}.gin_trgm_ops)
    WHERE search_text IS NOT NULL;

-- The thread's single live writer and its log head. Every append locks this row,
-- checks the fencing token, takes `next_seq` and renews the lease in one UPDATE.
CREATE TABLE writer_leases (
    owner            text NOT NULL,
    thread_id        text COLLATE "C" NOT NULL,
    next_seq         bigint NOT NULL,
    token            bigint NOT NULL,
    writer_id        uuid,
    expires_at       timestamptz NOT NULL,
    last_append_key  text,
    PRIMARY KEY (owner, thread_id)
);

-- Caller-supplied idempotency keys, kept for the life of the thread.
CREATE TABLE append_keys (
    owner         text NOT NULL,
    thread_id     text COLLATE "C" NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    first_seq     bigint NOT NULL,
    item_count    integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, thread_id, key)
);

-- Every name a thread was given, in order (Codex's session_index.jsonl).
CREATE TABLE thread_names (
    owner      text NOT NULL,
    thread_id  text COLLATE "C" NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    name       text,
    set_at     timestamptz NOT NULL,
    PRIMARY KEY (owner, thread_id, id)
);

-- Parent → child links of spawned and forked-with-parent threads.
CREATE TABLE spawn_edges (
    owner             text NOT NULL,
    parent_thread_id  text COLLATE "C" NOT NULL,
    child_thread_id   text COLLATE "C" NOT NULL,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (owner, parent_thread_id, child_thread_id)
);
CREATE INDEX spawn_edges_by_child ON spawn_edges (owner, child_thread_id);
"""

_V2 = """
-- The title derived from history, kept apart from the name a rename sets.
ALTER TABLE threads ADD COLUMN title text;
-- The first release stored that title as the name: a name equal to the thread's first
-- request (which is what the title is derived from) was never a rename, so it moves.
UPDATE threads SET title = name, name = NULL
    WHERE name IS NOT NULL AND name = first_user_message;
DELETE FROM thread_names AS n USING threads AS t
    WHERE n.owner = t.owner AND n.thread_id = t.thread_id
      AND t.name IS NULL AND n.name = t.title;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "thread title", _V2),
)
"""Every migration in order; the last one's version is the schema this library needs."""


async def current_version(conn: Conn, schema: str) -> int | None:
    """The highest applied version, or None when the schema has no migrations table."""
    table = f"{schema}.schema_migrations"
    cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    row = await cur.fetchone()
    if row is None or not row[0]:
        return None
    cur = await conn.execute(
        sql.SQL("SELECT max(version) FROM {}.schema_migrations").format(sql.Identifier(schema))
    )
    row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def apply_migrations(conn: Conn, schema: str) -> list[int]:
    """Bring `schema` up to date inside the caller's transaction; returns what was applied.

    Raises:
        Internal: the database was migrated by a newer library than this one.
    """
    latest = MIGRATIONS[-1].version
    version = await current_version(conn, schema)
    if version is not None and version >= latest:
        _refuse_newer(version, latest, schema)
        return []
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    ident = sql.Identifier(schema)
    await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
    await conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        ).format(ident)
    )
    # Re-read under the lock: another process may have finished while we waited.
    version = await current_version(conn, schema) or 0
    _refuse_newer(version, latest, schema)
    trgm = sql.Identifier(await _trigram_schema(conn, schema)).as_string(conn)
    applied = []
    await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(ident))
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        body = migration.sql.replace("{trgm}", trgm)
        await conn.execute(body.encode())
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
            (migration.version, migration.name, migration.checksum),
        )
        applied.append(migration.version)
    return applied


async def _trigram_schema(conn: Conn, schema: str) -> str:
    """The schema of the pg_trgm extension, creating it in ours when it is missing."""
    cur = await conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    row = await cur.fetchone()
    if row is not None:
        return str(row[0])
    try:
        await conn.execute(
            sql.SQL("CREATE EXTENSION pg_trgm WITH SCHEMA {}").format(sql.Identifier(schema))
        )
    except psycopg.Error as exc:
        if classify(exc) is not Fault.FATAL:
            raise  # a dropped connection: `Database.run` reruns the whole migration
        raise Internal(
            f"could not create the pg_trgm extension that thread search needs ({exc}); "
            "install PostgreSQL's contrib modules (Debian: postgresql-contrib) or ask the "
            "database owner to run CREATE EXTENSION pg_trgm"
        ) from exc
    return schema


def _refuse_newer(version: int, latest: int, schema: str) -> None:
    if version > latest:
        raise Internal(
            f"schema {schema} is at version {version}, newer than this library's {latest}; "
            "upgrade codex-thread-store before opening this database"
        )
