"""JSONL batch processing: one output row per non-blank line, error rows for malformed input."""

from __future__ import annotations

from typing import Any

import pytest

from reportqa.batch import parse_line, process_lines, salvage_id


def handler(qid: str, text: str) -> dict[str, Any]:
    if text == "bad":
        raise ValueError("empty question")
    return {"id": qid, "answer": text.upper()}


def on_error(qid: str, text: str, error: str) -> dict[str, Any]:
    return {"id": qid, "question": text, "error": error}


def run(lines: list[str]) -> list[dict[str, Any]]:
    return list(process_lines(lines, "question", handler, on_error))


def test_parse_line_valid() -> None:
    line = '{"id": "q1", "question": "市场规模是多少？"}'
    assert parse_line(line, "question") == ("q1", "市场规模是多少？")


def test_parse_line_numeric_id_and_missing_id() -> None:
    assert parse_line('{"id": 3, "question": "q"}', "question") == ("3", "q")
    assert parse_line('{"question": "q"}', "question") == ("", "q")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "q2", "question": ', "not valid JSON: Expecting value at column 26"),
        ("[1, 2]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ('{"id": "q4"}', 'missing string field "question"'),
        ('{"id": "q5", "question": 7}', 'missing string field "question"'),
    ],
)
def test_parse_line_errors(line: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_line(line, "question")
    assert str(info.value) == message


def test_salvage_id() -> None:
    assert salvage_id('{"id": "q4"}') == "q4"
    assert salvage_id('{"id": 5}') == "5"
    assert salvage_id("[1]") == ""
    assert salvage_id("{broken") == ""


def test_valid_lines_pass_through_the_handler() -> None:
    assert run(['{"id": "q1", "question": "abc"}', '{"id":"q9","question":"ok"}\n']) == [
        {"id": "q1", "answer": "ABC"},
        {"id": "q9", "answer": "OK"},
    ]


def test_blank_lines_are_skipped_but_counted() -> None:
    assert run(["", "   ", "[1]"]) == [{"id": "line-3", "question": "", "error": "line 3: not a JSON object"}]


def test_malformed_lines_become_error_rows() -> None:
    lines = [
        '{"id": "q1", "question": "abc"}',
        '{"id": "q2", "question": ',
        "[1,2]",
        '{"id": "q4"}',
        '{"id": 5, "question": 7}',
        '{"id": "q6", "question": "bad"}',
        '{"question": "x"}',
    ]
    assert run(lines) == [
        {"id": "q1", "answer": "ABC"},
        {"id": "line-2", "question": "", "error": "line 2: not valid JSON: Expecting value at column 26"},
        {"id": "line-3", "question": "", "error": "line 3: not a JSON object"},
        {"id": "q4", "question": "", "error": 'line 4: missing string field "question"'},
        {"id": "5", "question": "", "error": 'line 5: missing string field "question"'},
        {"id": "q6", "question": "bad", "error": "empty question"},
        {"id": "", "answer": "X"},
    ]


def test_other_field_name() -> None:
    out = list(process_lines(['{"id": "c1", "claim": "x"}'], "claim", handler, on_error))
    assert out == [{"id": "c1", "answer": "X"}]


def test_handler_errors_other_than_value_error_propagate() -> None:
    def boom(qid: str, text: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        list(process_lines(['{"id": "q1", "question": "a"}'], "question", boom, on_error))


def test_looking_ahead_keeps_the_lines_and_primes_each_text_before_its_line() -> None:
    from reportqa.batch import looking_ahead

    lines = [f'{{"id": "q{i}", "question": "问题{i}"}}' for i in range(7)]
    lines.insert(3, "{broken")
    primed: list[str] = []
    yielded: list[str] = []

    def prime(texts: Any, pool: Any) -> None:
        primed.extend(texts)

    for line in looking_ahead(lines, "question", prime, window=2):
        # every text up to two lines past the one handed out has been primed already
        position = lines.index(line)
        expected = [f"问题{i}" for i in range(7) if lines.index(f'{{"id": "q{i}", "question": "问题{i}"}}')
                    <= min(position + 2, len(lines) - 1)]
        assert primed[: len(expected)] == expected
        yielded.append(line)
    assert yielded == lines
    assert primed == [f"问题{i}" for i in range(7)]


def test_numbered_blocks_number_the_lines_as_process_lines_does() -> None:
    from reportqa.batch import numbered_blocks

    assert list(numbered_blocks(["a", "", "b", "c", "d"], size=2)) == [(1, ["a", ""]), (3, ["b", "c"]), (5, ["d"])]
    assert list(numbered_blocks([], size=2)) == []


def test_usable_workers_one_per_core_by_default_and_never_more_than_the_lines_keep_busy() -> None:
    import os

    from reportqa.batch import MIN_LINES_PER_WORKER, usable_workers

    cores = len(os.sched_getaffinity(0))
    assert usable_workers(0, 100 * MIN_LINES_PER_WORKER) == cores
    assert usable_workers(3, 100 * MIN_LINES_PER_WORKER) == 3
    assert usable_workers(4, 2 * MIN_LINES_PER_WORKER) == 2
    assert usable_workers(4, MIN_LINES_PER_WORKER - 1) == 1


def test_forked_workers_give_the_rows_of_one_process_in_the_same_order(tmp_path: Any) -> None:
    """Blank, malformed and refused lines included, and the work really done in other processes."""
    import io
    import json
    import os

    from reportqa.batch import MIN_LINES_PER_WORKER, run_file

    lines = [json.dumps({"id": f"q{i}", "question": "bad" if i % 17 == 0 else f"问题{i}"}, ensure_ascii=False)
             for i in range(3 * MIN_LINES_PER_WORKER)]
    lines[5], lines[40], lines[101] = "", "{broken", "   "
    source = tmp_path / "questions.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def with_pid(qid: str, text: str) -> dict[str, Any]:
        return {**handler(qid, text), "pid": os.getpid()}

    outputs = {}
    for workers in (1, 2):
        out = io.StringIO()
        run_file(source, out, "question", with_pid, on_error, workers=workers)
        outputs[workers] = [json.loads(row) for row in out.getvalue().splitlines()]
    pids = {row.pop("pid") for rows in outputs.values() for row in rows if "pid" in row}
    assert outputs[2] == outputs[1]
    assert len(outputs[1]) == len(lines) - 2
    assert outputs[1][39] == {"id": "line-41", "question": "",
                              "error": "line 41: not valid JSON: Expecting property name enclosed in double quotes at "
                                       "column 2"}
    assert os.getpid() in pids and len(pids) >= 2  # one worker may take every block: the order is what is asked


def test_forked_workers_read_only_a_few_blocks_ahead_of_what_is_written() -> None:
    """A batch of any size streams: the lines read when the first row comes out are bounded, not the whole file."""
    import json

    from reportqa.batch import BLOCK_LINES, BLOCKS_AHEAD, forked_rows

    read = 0

    def lines() -> Any:
        nonlocal read
        for i in range(10_000):
            read += 1
            yield json.dumps({"id": f"q{i}", "question": f"问题{i}"}, ensure_ascii=False)

    rows = forked_rows(lines(), "question", handler, on_error, workers=2)
    first = next(rows)
    assert first == {"id": "q0", "answer": "问题0"}
    assert read <= (2 * BLOCKS_AHEAD + 1) * BLOCK_LINES
    assert sum(1 for _ in rows) == 9_999
