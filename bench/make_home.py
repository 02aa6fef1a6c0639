"""Make a synthetic Codex home of N threads cloned from the real Codex 0.169.0 corpus.

    python bench/make_home.py OUT_DIR --threads N [--seed S] [--with-codex-db]

Every thread is a byte-level clone of one of the corpus's real rollouts
(`../shared/codex-corpus/codex-0.169.0-home`), with:

- a fresh UUIDv7-style id whose time bits are the clone's creation time;
- every timestamp shifted by the same whole number of seconds: the line `timestamp`s,
  the `session_meta` timestamp, and the epoch fields (`started_at`, `completed_at`,
  `*_ms`, `create_time`), so the file name, the `session_meta` id and timestamp and
  the id's time bits agree; creation times are spread over `--days` days;
- about half of the resumed (multi-turn) threads get their last turn moved later by up
  to 30 days, so `updated_at` order differs from `created_at` order;
- the file's mtime set to its last line's time (Codex reads `updated_at` from it).

Substitutions keep every byte length (ids are 36 characters, times keep their format),
so byte offsets into a rollout stay valid. That is what makes paginated forks work: a
0.169 fork names its parent by `history_base.end_byte_offset`, and each fork is cloned
together with a clone of its parent.

The mix (fractions are of threads, all seeded): `--legacy` of them are written
legacy-flavour (no ordinals, `user_message`/`agent_message` events; a legacy fork copies
its parent's history as Codex 0.144 did), the rest paginated as 0.169 writes them;
`--forks` are parent+fork pairs; `--archived` go to `archived_sessions/`; `--named` get
a name in `session_index.jsonl`.

`--with-codex-db` also writes Codex's own databases, as a Codex that had already
indexed the home would have them: `state_5.sqlite` (one `threads` row per clone, read
receipts) and `thread_history_1.sqlite` (the turn/item projection of every paginated
clone, without which Codex reads a paginated thread back with 0 turns). Their rows hold
absolute rollout paths, so do not move the home afterwards (or rewrite
`threads.rollout_path` as `tests/interop/codex_cli.relocate_rollout_paths` does).

`config.toml` is the corpus's (the loopback mock provider, network features off) with
`base_url` on `--mock-port`; the interop harness (`CodexCli`) rewrites it to its live mock.
`bench-manifest.json` records what was made, with samples of ids by kind (legacy,
paginated, fork and named samples are of active threads; archived ones are apart).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_CORPUS",
    "HomeSpec",
    "MadeHome",
    "Templates",
    "drop_threads",
    "make_home",
    "main",
]

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "codex-corpus"
CORPUS_HOME = "codex-0.169.0-home"
MANIFEST_NAME = "bench-manifest.json"
DAY_S = 86_400
MAX_GAP_S = 30 * DAY_S
SAMPLE_IDS = 200

# Slot kinds: the bytes of a template between slots are copied as they are.
SELF_ID, PARENT_ID, ISO_MS, EPOCH_S, EPOCH_MS = range(5)

_ISO_RE = re.compile(rb'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"')
_EPOCH_RE = re.compile(rb"(?<=[:\[,])(\d{13}|\d{10})(?=[,.}\]])")

Progress = Callable[[int, int], None]


# -- time helpers ------------------------------------------------------------------------------


def iso_ms(ms: int) -> bytes:
    """`YYYY-MM-DDThh:mm:ss.mmmZ` (UTC) for epoch milliseconds."""
    secs, frac = divmod(ms, 1000)
    t = time.gmtime(secs)
    return b"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        t.tm_year,
        t.tm_mon,
        t.tm_mday,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
        frac,
    )


def parse_iso_ms(raw: bytes) -> int:
    """Epoch milliseconds of a `YYYY-MM-DDThh:mm:ss.mmmZ` timestamp."""
    text = raw.decode()
    secs = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(text[20:23])


def uuid7_str(ms: int, rng: random.Random) -> str:
    """A UUIDv7-style id: 48 bits of epoch ms, version 7, variant 10, random rest."""
    rand_a = rng.getrandbits(12)
    rand_b = rng.getrandbits(62)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- templates ---------------------------------------------------------------------------------


@dataclass
class Template:
    """One corpus rollout, in one flavour, cut into literal pieces and fillable slots."""

    source_id: str  # the corpus thread id
    mode: str  # "legacy" or "paginated"
    pieces: list[bytes]
    slots: list[tuple[int, int, bool]]  # (kind, template value, late: after the gap split)
    created_ms: int  # session_meta timestamp
    last_ms: int  # the last line's timestamp
    late_last_ms: bool  # the last line is after the gap split
    can_gap: bool  # resumed thread: its last turn may move later
    size: int
    split_offset: int | None  # byte offset of the last turn's task_started
    split_ordinal: int | None
    db_row: dict[str, Any] | None = None
    db_turns: list[dict[str, Any]] = field(default_factory=list)
    db_items: list[dict[str, Any]] = field(default_factory=list)
    db_projection: dict[str, Any] | None = None
    db_receipt: dict[str, Any] | None = None

    def render(self, self_id: bytes, parent_id: bytes, delta_ms: int, gap_ms: int) -> bytes:
        pieces = self.pieces
        out = [pieces[0]]
        append = out.append
        for i, (kind, value, late) in enumerate(self.slots, start=1):
            shift = delta_ms + gap_ms if late else delta_ms
            if kind == SELF_ID:
                append(self_id)
            elif kind == PARENT_ID:
                append(parent_id)
            elif kind == ISO_MS:
                append(iso_ms(value + shift))
            elif kind == EPOCH_MS:
                append(b"%d" % (value + shift))
            else:
                append(b"%d" % (value + shift // 1000))
            append(pieces[i])
        return b"".join(out)


@dataclass
class Family:
    """What one clone unit copies: a single rollout, or a parent and its fork."""

    members: list[Template]  # [thread] or [parent, fork]


@dataclass
class Templates:
    """Every clone unit of the corpus, in both flavours."""

    singles: dict[str, list[Family]]  # mode -> families of one thread
    forks: dict[str, list[Family]]  # mode -> parent+fork pairs
    corpus: Path
    epoch_range: tuple[int, int]

    @classmethod
    def load(cls, corpus: Path = DEFAULT_CORPUS, *, with_db: bool = False) -> Templates:
        home = corpus / CORPUS_HOME
        files = sorted(home.glob("sessions/*/*/*/rollout-*.jsonl"))
        files += sorted(home.glob("archived_sessions/rollout-*.jsonl"))
        if not files:
            raise SystemExit(f"no rollouts under {home}; pass --corpus")
        raw: dict[str, list[bytes]] = {}
        metas: dict[str, dict[str, Any]] = {}
        for path in files:
            lines = path.read_bytes().split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            meta = json.loads(lines[0])["payload"]
            raw[meta["id"]] = lines
            metas[meta["id"]] = meta
        times = [parse_iso_ms(m["timestamp"].encode()) for m in metas.values()]
        epoch_range = (min(times) // 1000 - DAY_S, max(times) // 1000 + DAY_S)
        db = _CorpusDb(home) if with_db else None
        singles: dict[str, list[Family]] = {"legacy": [], "paginated": []}
        forks: dict[str, list[Family]] = {"legacy": [], "paginated": []}
        parent_of = {
            tid: str(m["forked_from_id"]) for tid, m in metas.items() if m.get("forked_from_id")
        }
        for tid in raw:
            if tid in parent_of:
                continue
            for mode in ("paginated", "legacy"):
                lines = raw[tid] if mode == "paginated" else _to_legacy(raw[tid])
                singles[mode].append(
                    Family([_template(tid, None, mode, lines, epoch_range, db, can_gap=True)])
                )
        for tid, parent in parent_of.items():
            if parent not in raw or parent in parent_of:
                continue  # only forks of a root thread; deeper chains are not cloned
            for mode in ("paginated", "legacy"):
                if mode == "paginated":
                    parent_lines, fork_lines = raw[parent], raw[tid]
                else:
                    parent_lines = _to_legacy(raw[parent])
                    # Codex before 0.169 forked by copying: fork meta, parent's lines, own.
                    own = _to_legacy(raw[tid])
                    fork_lines = [own[0], *parent_lines, *own[1:]]
                p = _template(parent, None, mode, parent_lines, epoch_range, db, can_gap=False)
                f = _template(tid, parent, mode, fork_lines, epoch_range, db, can_gap=False)
                forks[mode].append(Family([p, f]))
        if db is not None:
            db.close()
        return cls(singles, forks, corpus, epoch_range)


def _to_legacy(lines: list[bytes]) -> list[bytes]:
    """A 0.169 paginated rollout as Codex <= 0.144 wrote it (what legacy readers expect):
    no ordinals or `metadata`, `user_message`/`agent_message` events instead of
    `item_completed`, no `token_usage_record` or command `item_completed` lines."""
    out = []
    for raw in lines:
        line = json.loads(raw)
        line.pop("ordinal", None)
        kind = line.get("type")
        payload = line.get("payload")
        if kind == "token_usage_record" or not isinstance(payload, dict):
            continue
        if kind == "session_meta":
            payload["history_mode"] = "legacy"
            payload.pop("history_base", None)
            payload.pop("forked_from_ordinal_exclusive", None)
        elif kind == "response_item":
            line.pop("metadata", None)
        elif kind == "event_msg" and payload.get("type") == "item_completed":
            legacy = _legacy_event(payload.get("item") or {})
            if legacy is None:
                continue
            line["payload"] = legacy
        out.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode())
    return out


def _legacy_event(item: dict[str, Any]) -> dict[str, Any] | None:
    """The pre-0.169 event for a 0.169 `item_completed` item (None: not persisted then)."""
    text = "\n".join(
        str(part.get("text", "")) for part in item.get("content") or [] if isinstance(part, dict)
    )
    if item.get("type") == "UserMessage":
        return {
            "type": "user_message",
            "message": text,
            "images": None,
            "local_images": [],
            "text_elements": [],
        }
    if item.get("type") == "AgentMessage":
        return {"type": "agent_message", "message": text}
    return None


def _template(
    tid: str,
    parent: str | None,
    mode: str,
    lines: list[bytes],
    epoch_range: tuple[int, int],
    db: _CorpusDb | None,
    *,
    can_gap: bool,
) -> Template:
    data = b"".join(line + b"\n" for line in lines)
    starts = []
    offset = 0
    for index, line in enumerate(lines):
        if b'"type":"task_started"' in line:
            starts.append((offset, index))
        offset += len(line) + 1
    split_offset = split_ordinal = None
    if can_gap and len(starts) >= 2:
        split_offset, split_ordinal = starts[-1]
    ids = {tid.encode(): SELF_ID}
    if parent is not None:
        ids[parent.encode()] = PARENT_ID
    found: list[tuple[int, int, int, int]] = []  # (start, end, kind, value)
    for raw_id, kind in ids.items():
        for m in re.finditer(re.escape(raw_id), data):
            found.append((m.start(), m.end(), kind, 0))
    for m in _ISO_RE.finditer(data):
        found.append((m.start(1), m.end(1), ISO_MS, parse_iso_ms(m.group(1))))
    lo, hi = epoch_range
    for m in _EPOCH_RE.finditer(data):
        value = int(m.group(1))
        if len(m.group(1)) == 10 and lo <= value <= hi:
            found.append((m.start(1), m.end(1), EPOCH_S, value))
        elif len(m.group(1)) == 13 and lo * 1000 <= value <= hi * 1000:
            found.append((m.start(1), m.end(1), EPOCH_MS, value))
    found.sort()
    pieces: list[bytes] = []
    slots: list[tuple[int, int, bool]] = []
    pos = 0
    for start, end, kind, value in found:
        if start < pos:
            raise ValueError(f"overlapping substitutions in {tid} at byte {start}")
        pieces.append(data[pos:start])
        late = split_offset is not None and start >= split_offset
        slots.append((kind, value, late))
        pos = end
    pieces.append(data[pos:])
    line_stamps = [(s, late) for (k, s, late) in slots if k == ISO_MS]
    meta = json.loads(lines[0])["payload"]
    template = Template(
        source_id=tid,
        mode=mode,
        pieces=pieces,
        slots=slots,
        created_ms=parse_iso_ms(meta["timestamp"].encode()),
        last_ms=max(s for s, _ in line_stamps),
        late_last_ms=bool(line_stamps and line_stamps[-1][1]),
        can_gap=split_offset is not None,
        size=len(data),
        split_offset=split_offset,
        split_ordinal=split_ordinal,
    )
    if db is not None:
        db.attach(template)
    return template


class _CorpusDb:
    """The corpus's `state_5.sqlite` and `thread_history_1.sqlite` rows, read once."""

    def __init__(self, home: Path) -> None:
        self.state = _open_copy_readonly(home / "state_5.sqlite")
        self.history = _open_copy_readonly(home / "thread_history_1.sqlite")

    def attach(self, template: Template) -> None:
        tid = template.source_id
        template.db_row = _one(self.state, "SELECT * FROM threads WHERE id = ?", tid)
        template.db_receipt = _one(
            self.state, "SELECT * FROM thread_read_receipts WHERE thread_id = ?", tid
        )
        if template.mode == "paginated":
            template.db_projection = _one(
                self.history,
                "SELECT * FROM thread_history_projection_state WHERE thread_id = ?",
                tid,
            )
            template.db_turns = _all(
                self.history, "SELECT * FROM thread_turns WHERE thread_id = ?", tid
            )
            template.db_items = _all(
                self.history, "SELECT * FROM thread_items WHERE thread_id = ?", tid
            )

    def close(self) -> None:
        self.state.close()
        self.history.close()


def _open_copy_readonly(path: Path) -> sqlite3.Connection:
    """An in-memory copy of a database (never opened in place: SQLite would leave
    `-shm`/`-wal` files in the read-only corpus)."""
    mem = sqlite3.connect(":memory:")
    with (
        tempfile.TemporaryDirectory(prefix="make_home-") as tmp,
        closing(_open_private_copy(path, Path(tmp))) as src,
    ):
        src.backup(mem)
    mem.row_factory = sqlite3.Row
    return mem


def _open_private_copy(path: Path, tmp: Path) -> sqlite3.Connection:
    """Copy `path` and its non-empty `-wal` into `tmp` and open the copy."""
    copy = tmp / path.name
    shutil.copyfile(path, copy)
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        shutil.copyfile(wal, Path(f"{copy}-wal"))
    return sqlite3.connect(copy)


def _one(conn: sqlite3.Connection, sql: str, *args: object) -> dict[str, Any] | None:
    row = conn.execute(sql, args).fetchone()
    return None if row is None else dict(row)


def _all(conn: sqlite3.Connection, sql: str, *args: object) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, args)]


# -- the home ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeSpec:
    """What to make. Fractions are of threads."""

    threads: int
    seed: int = 1
    days: int = 365
    legacy: float = 0.5
    forks: float = 0.05
    archived: float = 0.05
    named: float = 0.10
    with_codex_db: bool = False
    mock_port: int = 40993
    end_ms: int | None = None  # newest creation time; default: the corpus's own time
    window_s: int | None = None  # spread creation over this many seconds instead of `days`


@dataclass
class MadeHome:
    """What `make_home` wrote."""

    path: Path
    threads: int
    counts: dict[str, int]
    samples: dict[str, list[str]]
    bytes_written: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "threads": self.threads,
            "counts": self.counts,
            "samples": self.samples,
            "bytes_written": self.bytes_written,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Clone:
    template: Template
    thread_id: str
    parent_id: str | None
    delta_ms: int
    gap_ms: int
    archived: bool
    name: str | None
    path: Path
    size: int = 0

    @property
    def created_ms(self) -> int:
        return self.template.created_ms + self.delta_ms

    @property
    def last_ms(self) -> int:
        t = self.template
        return t.last_ms + self.delta_ms + (self.gap_ms if t.late_last_ms else 0)


_NAME_WORDS = (
    "flaky test",
    "refactor",
    "release notes",
    "migration",
    "unicode check ✓",
    "perf pass",
    "CI fix",
    "docs",
)


def _plan(spec: HomeSpec, templates: Templates, root: Path) -> Iterator[_Clone]:
    """Every clone, in creation order, with ids, times, archive and name decided."""
    rng = random.Random(spec.seed)
    end_ms = spec.end_ms
    if end_ms is None:
        end_ms = min(
            t.created_ms for fams in templates.singles.values() for f in fams for t in f.members
        )
        end_ms -= end_ms % 1000
    window_s = spec.window_s or spec.days * DAY_S
    # Units: a single thread or a fork pair (two threads).
    units: list[tuple[Family, bool]] = []
    made = 0
    fork_units = templates.forks["paginated"] and spec.forks > 0
    while made < spec.threads:
        mode = "legacy" if rng.random() < spec.legacy else "paginated"
        if fork_units and spec.threads - made >= 2 and rng.random() < spec.forks / 2:
            units.append((rng.choice(templates.forks[mode]), True))
            made += 2
        else:
            units.append((rng.choice(templates.singles[mode]), False))
            made += 1
    starts = sorted(rng.randrange(window_s) for _ in units)
    sessions = root / "sessions"
    archived_dir = root / "archived_sessions"
    count = 0
    for (family, is_fork), start_s in zip(units, starts, strict=True):
        base_ms = end_ms - window_s * 1000 + start_s * 1000
        first = family.members[0]
        delta_ms = base_ms - first.created_ms
        delta_ms -= delta_ms % 1000  # whole seconds keep epoch-second fields exact
        parent_id: str | None = None
        for template in family.members:
            count += 1
            created_ms = template.created_ms + delta_ms
            thread_id = uuid7_str(created_ms, rng)
            gap_ms = 0
            room_s = (end_ms - template.last_ms - delta_ms) // 1000  # never past end_ms
            if template.can_gap and room_s > 60 and rng.random() < 0.5:
                gap_ms = rng.randrange(60, min(MAX_GAP_S, room_s)) * 1000
            archived = not is_fork and rng.random() < spec.archived
            name = None
            if rng.random() < spec.named:
                name = f"Bench #{count}: {rng.choice(_NAME_WORDS)}"
            local = time.localtime(created_ms // 1000)
            file_name = f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', local)}-{thread_id}.jsonl"
            if archived:
                path = archived_dir / file_name
            else:
                day = time.strftime("%Y/%m/%d", local)
                path = sessions / day / file_name
            yield _Clone(template, thread_id, parent_id, delta_ms, gap_ms, archived, name, path)
            parent_id = thread_id


def make_home(
    out_dir: Path,
    spec: HomeSpec,
    *,
    templates: Templates | None = None,
    progress: Progress | None = None,
    corpus: Path = DEFAULT_CORPUS,
) -> MadeHome:
    """Write the home described by `spec` into `out_dir` (which must be empty or absent)."""
    started = time.monotonic()
    root = out_dir.resolve()
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} exists and is not empty; pick a new folder")
    root.mkdir(parents=True, exist_ok=True)
    templates = templates or Templates.load(corpus, with_db=spec.with_codex_db)
    _write_config(root, templates.corpus, spec.mock_port)
    db = _CodexDbWriter(root, templates.corpus) if spec.with_codex_db else None
    counts = {"legacy": 0, "paginated": 0, "forks": 0, "archived": 0, "named": 0, "gapped": 0}
    samples: dict[str, list[str]] = {k: [] for k in ("legacy", "paginated", "fork", "archived")}
    samples["named"] = []
    seen: dict[str, int] = {}
    sampler = random.Random(spec.seed + 1)
    made_dirs: set[Path] = set()
    names: list[bytes] = []
    written = 0
    for done, clone in enumerate(_plan(spec, templates, root), start=1):
        t = clone.template
        _write_clone(clone, made_dirs)
        written += clone.size
        counts[t.mode] += 1
        kinds = [t.mode]
        if clone.parent_id is not None:
            counts["forks"] += 1
            kinds.append("fork")
        if clone.archived:
            counts["archived"] += 1
            kinds.append("archived")
        if clone.name is not None:
            counts["named"] += 1
            kinds.append("named")
            record = {
                "id": clone.thread_id,
                "thread_name": clone.name,
                "updated_at": iso_ms(clone.last_ms).decode(),
            }
            names.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
        if clone.gap_ms:
            counts["gapped"] += 1
        if clone.archived:  # samples by kind are of active threads; archived ones apart
            kinds = ["archived"]
        for kind in kinds:  # reservoir samples: spread over the whole home
            seen[kind] = seen.get(kind, 0) + 1
            bucket = samples[kind]
            if len(bucket) < SAMPLE_IDS:
                bucket.append(clone.thread_id)
            else:
                slot = sampler.randrange(seen[kind])
                if slot < SAMPLE_IDS:
                    bucket[slot] = clone.thread_id
        if db is not None:
            db.add(clone)
        if progress is not None:
            progress(done, spec.threads)
    if names:
        (root / "session_index.jsonl").write_bytes(b"".join(n + b"\n" for n in names))
    if db is not None:
        db.close()
    made = MadeHome(root, spec.threads, counts, samples, written, time.monotonic() - started)
    manifest = {
        "generator": "bench/make_home.py",
        "spec": {k: v for k, v in spec.__dict__.items()},
        "corpus": str(templates.corpus),
        **made.to_json(),
    }
    (root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return made


def _write_clone(clone: _Clone, made_dirs: set[Path]) -> None:
    """Write one clone's rollout, its mtime at its last line's time."""
    t = clone.template
    parent = (clone.parent_id or "").encode()
    data = t.render(clone.thread_id.encode(), parent, clone.delta_ms, clone.gap_ms)
    directory = clone.path.parent
    if directory not in made_dirs:
        directory.mkdir(parents=True, exist_ok=True)
        made_dirs.add(directory)
    with open(clone.path, "wb") as f:
        f.write(data)
    mtime_ns = clone.last_ms * 1_000_000
    os.utime(clone.path, ns=(mtime_ns, mtime_ns))
    clone.size = len(data)


def drop_threads(
    home: Path,
    count: int,
    *,
    templates: Templates,
    seed: int,
    end_ms: int | None = None,
    window_s: int = 60,
) -> list[Path]:
    """Write `count` more cloned rollouts into an existing home, created during the
    `window_s` seconds before `end_ms` (default: now), as another Codex process would:
    no names, nothing archived, no Codex DB rows. Returns their paths."""
    if end_ms is None:
        end_ms = time.time_ns() // 1_000_000
    spec = HomeSpec(
        threads=count, seed=seed, archived=0.0, named=0.0, end_ms=end_ms, window_s=window_s
    )
    made_dirs: set[Path] = set()
    paths = []
    for clone in _plan(spec, templates, home.resolve()):
        _write_clone(clone, made_dirs)
        paths.append(clone.path)
    return paths


def _write_config(root: Path, corpus: Path, port: int) -> None:
    text = (corpus / CORPUS_HOME / "config.toml").read_text(encoding="utf-8")
    text = re.sub(
        r"^# Written by .*$", "# Written by bench/make_home.py", text, count=1, flags=re.M
    )
    text = re.sub(r"http://127\.0\.0\.1:\d+/v1", f"http://127.0.0.1:{port}/v1", text)
    (root / "config.toml").write_text(text, encoding="utf-8")


class _CodexDbWriter:
    """Codex's `state_5.sqlite` and `thread_history_1.sqlite`, as after its own backfill."""

    BATCH = 2000

    def __init__(self, root: Path, corpus: Path) -> None:
        home = corpus / CORPUS_HOME
        for name in ("state_5.sqlite", "thread_history_1.sqlite", "goals_1.sqlite"):
            _copy_db(home / name, root / name)
        for name in ("memories_1.sqlite", "queue_1.sqlite"):
            _copy_db(home / name, root / name)
        self.state = sqlite3.connect(root / "state_5.sqlite", isolation_level=None)
        self.history = sqlite3.connect(root / "thread_history_1.sqlite", isolation_level=None)
        for conn in (self.state, self.history):
            conn.execute("PRAGMA synchronous=OFF")
        self.state.execute("BEGIN")
        for table in ("threads", "thread_read_receipts", "thread_dynamic_tools"):
            self.state.execute(f"DELETE FROM {table}")
        self.state.execute("DELETE FROM thread_spawn_edges")
        self.history.execute("BEGIN")
        for table in (
            "thread_items",
            "thread_turns",
            "thread_realtime_items",
            "thread_history_projection_state",
        ):
            self.history.execute(f"DELETE FROM {table}")
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.sql: dict[str, tuple[sqlite3.Connection, str]] = {}
        self.pending = 0

    def _queue(self, conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
        if table not in self.sql:
            cols = ", ".join(row)
            marks = ", ".join("?" * len(row))
            self.sql[table] = (conn, f"INSERT INTO {table} ({cols}) VALUES ({marks})")
        self.rows.setdefault(table, []).append(tuple(row.values()))

    def add(self, clone: _Clone) -> None:
        t = clone.template
        if t.db_row is None:
            return
        old, new = t.source_id, clone.thread_id
        delta, gap = clone.delta_ms, clone.gap_ms
        row = dict(t.db_row)
        created_ms = clone.created_ms
        updated_ms = clone.last_ms
        recency_ms = int(row["recency_at_ms"]) + delta + (gap if clone.gap_ms else 0)
        row.update(
            id=new,
            rollout_path=str(clone.path),
            created_at=created_ms // 1000,
            created_at_ms=created_ms,
            updated_at=updated_ms // 1000,
            updated_at_ms=updated_ms,
            recency_at=recency_ms // 1000,
            recency_at_ms=recency_ms,
            archived=1 if clone.archived else 0,
            archived_at=updated_ms // 1000 if clone.archived else None,
            history_mode=t.mode,
            name=clone.name,
        )
        self._queue(self.state, "threads", row)
        if t.db_receipt is not None:
            self._queue(self.state, "thread_read_receipts", {**t.db_receipt, "thread_id": new})
        if t.db_projection is not None:
            proj = {**t.db_projection, "thread_id": new, "next_rollout_byte_offset": clone.size}
            self._queue(self.history, "thread_history_projection_state", proj)
        split_offset, split_ordinal = t.split_offset, t.split_ordinal
        for turn in t.db_turns:
            late = split_offset is not None and (turn["rollout_byte_offset"] or 0) >= split_offset
            shift_s = (delta + (gap if late else 0)) // 1000
            turn = {**turn, "thread_id": new}
            for key in ("started_at", "completed_at"):
                if turn[key] is not None:
                    turn[key] += shift_s
            self._queue(self.history, "thread_turns", turn)
        for item in t.db_items:
            late = split_ordinal is not None and item["rollout_ordinal"] >= split_ordinal
            shift = delta + (gap if late else 0)
            item = {**item, "thread_id": new, "item_json": item["item_json"].replace(old, new)}
            for key in ("created_at_ms", "started_at_ms", "completed_at_ms"):
                if item[key] is not None:
                    item[key] += shift
            self._queue(self.history, "thread_items", item)
        self.pending += 1
        if self.pending >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        for table, rows in self.rows.items():
            conn, sql = self.sql[table]
            conn.executemany(sql, rows)
        self.rows = {}
        self.pending = 0

    def close(self) -> None:
        self._flush()
        for conn in (self.state, self.history):
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()


def _copy_db(src: Path, dst: Path) -> None:
    """Copy a (maybe WAL-mode, read-only) database into one self-contained file."""
    with (
        tempfile.TemporaryDirectory(prefix="make_home-") as tmp,
        closing(_open_private_copy(src, Path(tmp))) as s,
        closing(sqlite3.connect(dst)) as d,
    ):
        s.backup(d)
        mode = s.execute("PRAGMA journal_mode").fetchone()[0]
        d.execute(f"PRAGMA journal_mode={mode}")


# -- command line ------------------------------------------------------------------------------


class TerminalProgress:
    """`done/total` on one rewritten stderr line on a terminal, else a line per 10 %."""

    def __init__(self, label: str, *, stream: Any = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.last = 0.0
        self.last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if self.tty:
            if not finished and now - self.last < 0.2:
                return
            self.last = now
            elapsed = now - self.started
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = (total - done) / rate if rate > 0 else 0.0
            self.stream.write(
                f"\r{self.label}: {done:,}/{total:,} ({rate:,.0f}/s, ETA {eta:,.0f} s)   "
            )
            if finished:
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = done * 10 // max(total, 1)
        if decile != self.last_decile:
            self.last_decile = decile
            self.stream.write(f"{self.label}: {done:,}/{total:,}\n")
            self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Make a synthetic Codex home of N threads cloned from the real corpus."
    )
    parser.add_argument("out_dir", type=Path, help="the new home (absent or empty)")
    parser.add_argument("--threads", type=int, required=True, help="how many threads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--with-codex-db",
        action="store_true",
        help="also write Codex's state_5.sqlite and thread_history_1.sqlite rows",
    )
    parser.add_argument("--days", type=int, default=365, help="spread creation over N days")
    parser.add_argument("--legacy", type=float, default=0.5, help="fraction written legacy")
    parser.add_argument("--forks", type=float, default=0.05, help="fraction in fork pairs")
    parser.add_argument("--archived", type=float, default=0.05, help="fraction archived")
    parser.add_argument("--named", type=float, default=0.10, help="fraction named")
    parser.add_argument("--mock-port", type=int, default=40993, help="port in config.toml")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    spec = HomeSpec(
        threads=args.threads,
        seed=args.seed,
        days=args.days,
        legacy=args.legacy,
        forks=args.forks,
        archived=args.archived,
        named=args.named,
        with_codex_db=args.with_codex_db,
        mock_port=args.mock_port,
    )
    made = make_home(args.out_dir, spec, progress=TerminalProgress("make_home"), corpus=args.corpus)
    c = made.counts
    print(
        f"{made.path}: {made.threads:,} threads ({c['paginated']:,} paginated, "
        f"{c['legacy']:,} legacy, {c['forks']:,} forks, {c['archived']:,} archived, "
        f"{c['named']:,} named), {made.bytes_written / 1e6:,.0f} MB in {made.seconds:.1f} s"
        + (", with Codex DBs" if spec.with_codex_db else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
