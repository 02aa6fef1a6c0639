"""`parse_rollout`: offsets of every decodable line, blank and CRLF lines, what is counted
malformed and what is a torn tail, and sibling keys kept beside the envelope."""

from __future__ import annotations

from codex_thread_store.local.rollout_files import parse_rollout

A = b'{"timestamp":"2026-12-02T10:00:00.000Z","type":"event_msg","payload":{"type":"x"}}'
B = b'{"timestamp":"2026-12-02T10:00:01.000Z","type":"response_item","ordinal":3,"payload":{}}'
C = b'{"timestamp":"2026-12-02T10:00:02.000Z","type":"response_item","payload":{},"metadata":1}'


def test_offsets_blank_lines_and_crlf() -> None:
    data = A + b"\r\n" + b"   \n" + b"\n" + B + b"\n" + C + b"\n"
    result = parse_rollout(data, base_offset=100)
    assert [line.item.type for line in result.lines] == [
        "event_msg",
        "response_item",
        "response_item",
    ]
    assert result.offsets == [100, 100 + len(A) + 2 + 4 + 1, 100 + len(A) + 2 + 4 + 1 + len(B) + 1]
    assert result.lines[0].raw == A  # without the line ending
    assert result.lines[1].ordinal == 3
    assert result.lines[2].item.extra == {"metadata": 1}
    assert result.lines[0].item.extra == {}
    assert result.size == 100 + len(data)
    assert (result.malformed, result.torn_tail) == (0, False)


def test_malformed_lines_and_a_torn_tail() -> None:
    data = A + b"\nnot json\n" + b'{"type":"x"}\n' + B[:20]
    result = parse_rollout(data)
    assert len(result.lines) == 1
    assert result.malformed == 2  # terminated lines that do not decode
    assert result.torn_tail  # the unterminated last line
    complete = parse_rollout(A + b"\n" + B)  # a whole last line without its newline
    assert len(complete.lines) == 2 and not complete.torn_tail
