"""`ThreadMetadataPatch` and `GitInfoPatch`: absent vs clear, JSON form, merge
(core-api 3.3 and the types.rs test inventory in core-api 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_thread_store import UNSET, GitInfo, GitInfoPatch, ThreadMetadataPatch, TokenUsage
from codex_thread_store.codec import decode_json, encode_json
from codex_thread_store.protocol import SessionSource

CLEARABLE = ["name", "thread_source", "agent_nickname", "agent_role", "agent_path"]
FIELDS = list(ThreadMetadataPatch.__struct_fields__)
PLAIN = [f for f in FIELDS if f not in CLEARABLE]

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def _decode(data: bytes | str) -> ThreadMetadataPatch:
    return decode_json(data, ThreadMetadataPatch)


def _decode_git(data: bytes | str) -> GitInfoPatch:
    return decode_json(data, GitInfoPatch)


# -- the types.rs inventory ------------------------------------------------------------


def test_thread_metadata_patch_round_trips_optional_clears() -> None:
    patch = ThreadMetadataPatch(
        name=None, thread_source=None, agent_nickname=None, agent_role=None, agent_path=None
    )
    data = encode_json(patch)
    assert msgspec.json.decode(data) == {
        "name": None,
        "thread_source": None,
        "agent_nickname": None,
        "agent_role": None,
        "agent_path": None,
    }
    decoded = _decode(data)
    for field in CLEARABLE:
        assert getattr(decoded, field) is None, field  # clear, not absent
    assert decoded == patch
    assert not decoded.is_empty()
    assert decoded.present_fields() == CLEARABLE


def test_git_info_patch_round_trips_optional_clears() -> None:
    patch = GitInfoPatch(branch="main", origin_url=None)
    data = encode_json(patch)
    assert data == b'{"branch":"main","origin_url":null}'
    decoded = _decode_git(data)
    assert decoded == patch
    assert decoded.sha is UNSET
    assert decoded.branch == "main"
    assert decoded.origin_url is None


def test_git_info_patch_nested_in_thread_patch() -> None:
    patch = ThreadMetadataPatch(name=None, git_info=GitInfoPatch(branch="main", origin_url=None))
    data = encode_json(patch)
    assert data == b'{"name":null,"git_info":{"branch":"main","origin_url":null}}'
    assert _decode(data) == patch


def test_thread_metadata_patch_accepts_missing_fields() -> None:
    patch = _decode(b"{}")
    assert patch.is_empty()
    assert patch == ThreadMetadataPatch()
    assert patch.present_fields() == []
    for field in FIELDS:
        assert getattr(patch, field) is UNSET


def test_thread_metadata_patch_merge_uses_presence_semantics() -> None:
    current = ThreadMetadataPatch(
        name="old name",
        preview="old preview",
        git_info=GitInfoPatch(sha="abc123", branch="main"),
    )
    nxt = ThreadMetadataPatch(
        name=None,
        title="new title",
        git_info=GitInfoPatch(branch="feature", origin_url=None),
    )
    merged = current.merge(nxt)
    assert merged.name is None  # cleared
    assert merged.preview == "old preview"  # kept
    assert merged.title == "new title"  # set
    assert merged.git_info == GitInfoPatch(sha="abc123", branch="feature", origin_url=None)
    # Nothing else appeared.
    assert merged.present_fields() == ["name", "preview", "title", "git_info"]


def test_merge_does_not_modify_its_operands() -> None:
    current = ThreadMetadataPatch(name="a", git_info=GitInfoPatch(sha="x"))
    nxt = ThreadMetadataPatch(name=None, git_info=GitInfoPatch(branch="b"))
    current.merge(nxt)
    assert current == ThreadMetadataPatch(name="a", git_info=GitInfoPatch(sha="x"))
    assert nxt == ThreadMetadataPatch(name=None, git_info=GitInfoPatch(branch="b"))


def test_merge_creates_git_patch_when_current_has_none() -> None:
    merged = ThreadMetadataPatch(preview="p").merge(
        ThreadMetadataPatch(git_info=GitInfoPatch(sha=None))
    )
    assert merged.git_info == GitInfoPatch(sha=None)
    assert merged.preview == "p"


def test_merge_with_empty_patch_keeps_everything() -> None:
    current = ThreadMetadataPatch(name=None, preview="p", git_info=GitInfoPatch(branch="b"))
    assert current.merge(ThreadMetadataPatch()) == current
    assert ThreadMetadataPatch().merge(current) == current


# -- plain fields: None is absent --------------------------------------------------------


def test_plain_field_none_is_absent() -> None:
    for field in PLAIN:
        patch = ThreadMetadataPatch(**{field: None})
        assert getattr(patch, field) is UNSET, field
        assert patch.is_empty(), field
        assert encode_json(patch) == b"{}", field


def test_plain_field_json_null_decodes_to_absent() -> None:
    for field in PLAIN:
        patch = _decode(f'{{"{field}": null}}')
        assert getattr(patch, field) is UNSET, field
        assert patch.is_empty(), field


def test_clearable_field_json_null_decodes_to_clear() -> None:
    for field in CLEARABLE:
        patch = _decode(f'{{"{field}": null}}')
        assert getattr(patch, field) is None, field
        assert not patch.is_empty(), field
        assert patch.present_fields() == [field]


def test_git_info_patch_json_null_subfields_decode_to_clear() -> None:
    patch = _decode_git(b'{"sha":null,"branch":null,"origin_url":null}')
    assert patch.sha is None
    assert patch.branch is None
    assert patch.origin_url is None
    assert not patch.is_empty()
    assert _decode_git(b"{}").is_empty()


def test_clear_example_from_core_api() -> None:
    patch = _decode(b'{"name": null, "git_info": {"branch": "main", "origin_url": null}}')
    assert patch.name is None
    assert isinstance(patch.git_info, GitInfoPatch)
    assert patch.git_info.sha is UNSET
    assert patch.git_info.branch == "main"
    assert patch.git_info.origin_url is None


def test_set_values_decode() -> None:
    patch = _decode(
        b'{"preview":"p","model":"gpt","created_at":"2026-01-02T03:04:05.678Z",'
        b'"source":{"subagent":"review"},"token_usage":{"input_tokens":3,"total_tokens":5},'
        b'"approval_mode":{"mode":"never"}}'
    )
    assert patch.preview == "p"
    assert patch.model == "gpt"
    assert patch.created_at == NOW
    assert patch.source == SessionSource.subagent("review")
    assert patch.token_usage == TokenUsage(input_tokens=3, total_tokens=5)
    assert patch.approval_mode == {"mode": "never"}


# -- is_empty / has_metadata_fact ----------------------------------------------------------


def test_is_empty() -> None:
    assert ThreadMetadataPatch().is_empty()
    assert not ThreadMetadataPatch(name=None).is_empty()
    assert not ThreadMetadataPatch(preview="").is_empty()
    assert not ThreadMetadataPatch(git_info=GitInfoPatch()).is_empty()
    assert ThreadMetadataPatch(preview="p").without("preview").is_empty()


def test_has_metadata_fact() -> None:
    assert not ThreadMetadataPatch().has_metadata_fact()
    assert not ThreadMetadataPatch(updated_at=NOW).has_metadata_fact()
    assert not ThreadMetadataPatch(name="n").has_metadata_fact()
    assert not ThreadMetadataPatch(name=None, updated_at=NOW).has_metadata_fact()
    assert ThreadMetadataPatch(preview="p").has_metadata_fact()
    assert ThreadMetadataPatch(advance_recency_at=NOW, updated_at=NOW).has_metadata_fact()
    assert ThreadMetadataPatch(thread_source=None).has_metadata_fact()
    assert ThreadMetadataPatch(git_info=GitInfoPatch(branch="b")).has_metadata_fact()


# -- GitInfoPatch.apply ----------------------------------------------------------------


def test_git_apply_sets_on_missing_git() -> None:
    assert GitInfoPatch(branch="main").apply(None) == GitInfo(branch="main")
    assert GitInfoPatch(sha="abc", origin_url="u").apply(None) == GitInfo(
        commit_hash="abc", repository_url="u"
    )


def test_git_apply_keeps_absent_subfields() -> None:
    current = GitInfo(commit_hash="abc", branch="main", repository_url="u")
    assert GitInfoPatch().apply(current) == current
    assert GitInfoPatch(branch="feature").apply(current) == GitInfo(
        commit_hash="abc", branch="feature", repository_url="u"
    )


def test_git_apply_clears_present_nulls() -> None:
    current = GitInfo(commit_hash="abc", branch="main", repository_url="u")
    assert GitInfoPatch(sha=None, origin_url=None).apply(current) == GitInfo(branch="main")


def test_git_apply_returns_none_when_everything_is_empty() -> None:
    current = GitInfo(commit_hash="abc", branch="main")
    assert GitInfoPatch(sha=None, branch=None).apply(current) is None
    assert GitInfoPatch(sha=None, branch=None, origin_url=None).apply(None) is None
    assert GitInfoPatch().apply(None) is None


def test_git_set_all() -> None:
    patch = GitInfoPatch.set_all(GitInfo(commit_hash="abc", branch=None, repository_url="u"))
    assert patch == GitInfoPatch(sha="abc", origin_url="u")
    assert patch.branch is UNSET


def test_git_merge_presence_semantics() -> None:
    base = GitInfoPatch(sha="a", branch="b")
    assert base.merge(GitInfoPatch(branch=None, origin_url="o")) == GitInfoPatch(
        sha="a", branch=None, origin_url="o"
    )
    assert base.merge(GitInfoPatch()) == base


# -- properties ------------------------------------------------------------------------

_text = st.text(max_size=12)
_tri_str = st.one_of(st.just(UNSET), st.none(), _text)
_datetimes = st.one_of(
    st.just(UNSET),
    st.none(),
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
)
_sources = st.one_of(
    st.just(UNSET),
    st.none(),
    st.sampled_from(
        [
            SessionSource.cli(),
            SessionSource.vscode(),
            SessionSource.mcp(),
            SessionSource.custom("app"),
            SessionSource.internal("guardian"),
            SessionSource.subagent("review"),
            SessionSource.subagent_other("guardian"),
            SessionSource.thread_spawn("p", depth=2, agent_role="worker"),
        ]
    ),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_token_usage = st.one_of(
    st.just(UNSET),
    st.none(),
    st.builds(
        TokenUsage,
        input_tokens=st.integers(0, 10**9),
        cached_input_tokens=st.integers(0, 10**9),
        output_tokens=st.integers(0, 10**9),
        reasoning_output_tokens=st.integers(0, 10**9),
        total_tokens=st.integers(0, 10**9),
        cache_write_input_tokens=st.none() | st.integers(0, 10**9),
    ),
)
_git = st.one_of(
    st.just(UNSET),
    st.none(),
    st.builds(GitInfoPatch, sha=_tri_str, branch=_tri_str, origin_url=_tri_str),
)

_FIELD_STRATEGIES: dict[str, Any] = {}
for _name in FIELDS:
    if _name in ("created_at", "updated_at", "advance_recency_at"):
        _FIELD_STRATEGIES[_name] = _datetimes
    elif _name == "source":
        _FIELD_STRATEGIES[_name] = _sources
    elif _name in ("approval_mode", "permission_profile"):
        _FIELD_STRATEGIES[_name] = st.one_of(st.just(UNSET), _json)
    elif _name == "token_usage":
        _FIELD_STRATEGIES[_name] = _token_usage
    elif _name == "git_info":
        _FIELD_STRATEGIES[_name] = _git
    else:
        _FIELD_STRATEGIES[_name] = _tri_str


# Cold starts (first strategy build) can be slow; that says nothing about the property.
PROPERTY = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@st.composite
def patches(draw: st.DrawFn) -> ThreadMetadataPatch:
    # Mostly sparse patches, so merges see both present and absent fields.
    chosen = draw(st.sets(st.sampled_from(FIELDS), max_size=8))
    return ThreadMetadataPatch(**{f: draw(_FIELD_STRATEGIES[f]) for f in chosen})


@PROPERTY
@given(patches())
def test_encode_decode_round_trip(p: ThreadMetadataPatch) -> None:
    assert _decode(encode_json(p)) == p


@PROPERTY
@given(patches())
def test_is_empty_iff_encodes_to_empty_object(p: ThreadMetadataPatch) -> None:
    assert p.is_empty() == (encode_json(p) == b"{}")


@PROPERTY
@given(patches())
def test_only_clearable_fields_can_hold_none(p: ThreadMetadataPatch) -> None:
    for field in PLAIN:
        assert getattr(p, field) is not None, field


@PROPERTY
@given(patches(), patches())
def test_merge_takes_present_fields_of_next_else_current(
    p: ThreadMetadataPatch, q: ThreadMetadataPatch
) -> None:
    merged = p.merge(q)
    for field in FIELDS:
        mine, theirs, got = getattr(p, field), getattr(q, field), getattr(merged, field)
        if theirs is UNSET:
            assert got == mine, field
        elif field == "git_info" and isinstance(theirs, GitInfoPatch):
            base = mine if isinstance(mine, GitInfoPatch) else GitInfoPatch()
            for sub in ("sha", "branch", "origin_url"):
                want = getattr(theirs, sub)
                if want is UNSET:
                    want = getattr(base, sub)
                assert getattr(got, sub) == want, sub
        else:
            assert got == theirs, field
    assert merged.is_empty() == (p.is_empty() and q.is_empty())


@PROPERTY
@given(patches(), patches(), patches())
def test_merge_is_associative(
    p: ThreadMetadataPatch, q: ThreadMetadataPatch, r: ThreadMetadataPatch
) -> None:
    assert p.merge(q).merge(r) == p.merge(q.merge(r))


@PROPERTY
@given(patches())
def test_merge_with_itself_and_empty_is_identity(p: ThreadMetadataPatch) -> None:
    assert p.merge(ThreadMetadataPatch()) == p
    assert ThreadMetadataPatch().merge(p) == p
    assert p.merge(p) == p


def test_token_usage_optional_counts_default_to_zero() -> None:
    usage = TokenUsage(input_tokens=3, output_tokens=4, total_tokens=7)
    assert (usage.cached_input_tokens, usage.reasoning_output_tokens) == (0, 0)


def test_a_partly_set_git_patch_is_not_empty() -> None:
    assert GitInfoPatch().is_empty()
    for fields in ({"sha": "abc"}, {"branch": "main"}, {"origin_url": None}):
        assert not GitInfoPatch(**fields).is_empty(), fields  # type: ignore[arg-type]
