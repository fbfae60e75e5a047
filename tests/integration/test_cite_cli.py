"""`reportqa cite`: a draft file as JSON or footnoted Markdown, JSONL batches of claims, bad input, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportqa.cli import main
from reportqa.core.settings import Settings

from ..conftest import AI_DOC, CHIP_DOC, SMALL_DOCS

CITATION_FIELDS = {"n", "doc", "title", "section", "start", "end", "line_start", "line_end", "page", "page_end",
                   "text", "score"}
RESULT_FIELDS = {"id", "claim", "verdict", "report_value", "claim_value", "support", "citations"}
BATCH_FIELDS = {"id", "claim", "verdict", "report_value", "citations"}
Capture = pytest.CaptureFixture[str]

SUPPORTED = "2026年全球AI支出预计达到2.59万亿美元。"
CONTRADICTED = "2026年全球AI支出预计达到3.1万亿美元。"
UNSUPPORTED = "火星殖民地的人口在2025年达到了十万人。"
CHIP_SUPPORTED = "星河半导体在2025年实现营业收入128亿元。"
DRAFT = (
    "# 2026年AI支出快评\n"
    "\n"
    f"{SUPPORTED}{CONTRADICTED}\n"
    "\n"
    "- 列表项不是论断：星河半导体营业收入150亿元。\n"
    "\n"
    "```\n"
    "代码块里的句子也不是论断，全球AI支出为9万亿美元。\n"
    "```\n"
    "\n"
    f"{UNSUPPORTED}\n"
    f"{CHIP_SUPPORTED}\n"
)
EXPECTED_CLAIMS = [  # (claim, verdict, line)
    (SUPPORTED, "supported", 3),
    (CONTRADICTED, "contradicted", 3),
    (UNSUPPORTED, "unsupported", 11),
    (CHIP_SUPPORTED, "supported", 12),
]


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_citations(citations: list[dict]) -> None:
    assert citations
    for n, citation in enumerate(citations, start=1):
        assert set(citation) == CITATION_FIELDS and citation["n"] == n
        source = SMALL_DOCS[citation["doc"]][1]
        assert squeeze(source[citation["start"] : citation["end"]]) == squeeze(citation["text"])
        assert citation["line_start"] == source.count("\n", 0, citation["start"]) + 1
        assert citation["title"] == SMALL_DOCS[citation["doc"]][0]


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    path = tmp_path / "draft.md"
    path.write_text(DRAFT, encoding="utf-8")
    return path


def cite(index: Settings, *args: str) -> int:
    return main(["cite", "--index-dir", str(index.index_dir), *args])


# --- a draft ------------------------------------------------------------------------------------------


def test_draft_as_json(small_index: Settings, draft: Path, capsys: Capture) -> None:
    assert cite(small_index, str(draft)) == 0
    captured = capsys.readouterr()
    body = json.loads(captured.out)
    assert set(body) == {"results"}
    results = body["results"]
    assert [(r["claim"], r["verdict"], r["line"]) for r in results] == EXPECTED_CLAIMS
    assert [r["id"] for r in results] == ["claim-1", "claim-2", "claim-3", "claim-4"]
    for result in results:
        assert set(result) == RESULT_FIELDS | {"start", "end", "line"}
        assert DRAFT[result["start"] : result["end"]] == result["claim"]
    supported, contradicted, unsupported, chip = results
    assert supported["citations"][0]["doc"] == AI_DOC and supported["report_value"] is None
    assert "2.59万亿美元" in contradicted["report_value"] and contradicted["claim_value"] == "3.1万亿美元"
    assert contradicted["citations"][0]["doc"] == AI_DOC
    assert unsupported["report_value"] is None
    assert chip["citations"][0]["doc"] == CHIP_DOC
    for result in (supported, contradicted, chip):
        check_citations(result["citations"])


def test_format_json_is_the_default(small_index: Settings, draft: Path, capsys: Capture) -> None:
    assert cite(small_index, str(draft)) == 0
    default = capsys.readouterr().out
    assert cite(small_index, "--format", "json", str(draft)) == 0
    assert capsys.readouterr().out == default


def test_draft_as_markdown_with_footnotes(small_index: Settings, draft: Path, capsys: Capture) -> None:
    assert cite(small_index, "--format", "json", str(draft)) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert cite(small_index, "--format", "markdown", str(draft)) == 0
    markdown = capsys.readouterr().out
    body, notes = markdown.split("\n\n---\n\n")
    report_value = results[1]["report_value"]
    assert body == (
        "# 2026年AI支出快评\n"
        "\n"
        f"{SUPPORTED}[^1]{CONTRADICTED} **[⚠ 与报告不符：报告为 {report_value}]**[^2]\n"
        "\n"
        "- 列表项不是论断：星河半导体营业收入150亿元。\n"
        "\n"
        "```\n"
        "代码块里的句子也不是论断，全球AI支出为9万亿美元。\n"
        "```\n"
        "\n"
        f"{UNSUPPORTED} **[报告未涉及]**\n"
        f"{CHIP_SUPPORTED}[^3]"
    )
    lines = notes.split("\n")
    assert lines[-1] == "" and len(lines) == 4  # three footnotes, then the final newline
    for n, (label, result) in enumerate([("出处", results[0]), ("与之不符的原文", results[1]),
                                         ("出处", results[3])], start=1):
        c = result["citations"][0]
        assert lines[n - 1].startswith(f"[^{n}]: {label}: *{c['title']}* — {c['section']} "
                                       f"({c['doc']}, 第 {c['line_start']}–{c['line_end']} 行): “")
        assert lines[n - 1].endswith("”")
    assert "2.59万亿美元" in lines[1] and "128亿元" in lines[2]


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_out_writes_the_file_and_nothing_to_stdout(small_index: Settings, draft: Path, tmp_path: Path,
                                                   capsys: Capture, fmt: str) -> None:
    assert cite(small_index, "--format", fmt, str(draft)) == 0
    printed = capsys.readouterr().out
    out = tmp_path / f"checked.{fmt}"
    assert cite(small_index, "--format", fmt, "--out", str(out), str(draft)) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8") == printed
    assert printed.endswith("\n")


def test_a_draft_in_gb18030_or_with_a_bom_is_read(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    text = f"# 标题\n\n{CHIP_SUPPORTED}\n"
    for name, data in (("gb.txt", text.encode("gb18030")), ("bom.md", b"\xef\xbb\xbf" + text.encode())):
        path = tmp_path / name
        path.write_bytes(data)
        assert cite(small_index, str(path)) == 0
        (result,) = json.loads(capsys.readouterr().out)["results"]
        assert (result["claim"], result["verdict"], result["line"]) == (CHIP_SUPPORTED, "supported", 3)
        assert text[result["start"] : result["end"]] == CHIP_SUPPORTED  # offsets into the decoded text


# --- bad drafts ---------------------------------------------------------------------------------------


def assert_refused(capsys: Capture, *fragments: str) -> None:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("reportqa cite: ")
    assert "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in captured.err, captured.err


def test_missing_draft_exits_2_naming_it(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "no-such-draft.md"
    assert cite(small_index, str(missing)) == 2
    assert_refused(capsys, "No such file", str(missing))


def test_a_failed_draft_leaves_the_out_file_alone(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "checked.md"
    out.write_text("the previous run's output\n", encoding="utf-8")
    assert cite(small_index, "--format", "markdown", "--out", str(out), str(tmp_path / "typo.md")) == 2
    assert_refused(capsys, "typo.md")
    assert out.read_text(encoding="utf-8") == "the previous run's output\n"
    fresh = tmp_path / "never-written.json"
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert cite(small_index, "--out", str(fresh), str(empty)) == 2
    assert_refused(capsys, "the draft is empty")
    assert not fresh.exists()


def test_a_folder_as_draft_exits_2(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    assert cite(small_index, str(tmp_path)) == 2
    assert_refused(capsys, "Is a directory", str(tmp_path))


def test_an_unreadable_draft_exits_2(small_index: Settings, draft: Path, capsys: Capture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A file without read permission (root reads anything, so the refusal is simulated for this one path)."""
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == draft:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert cite(small_index, str(draft)) == 2
    assert_refused(capsys, "Permission denied", str(draft))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "reportqa cite: the draft is empty"),
        (b" \n\t\r\n   \n", "reportqa cite: the draft is empty"),
        ("# 只有标题\n\n- 只有列表\n\n```\n代码里的句子不算论断。\n```\n".encode(),
         "reportqa cite: the draft has no claim sentences"),
        (b"\x00\x01\x02binary\x00junk" * 50, "reportqa cite: {path}: binary content"),
        (bytes(range(128, 256)) * 8, "reportqa cite: {path}: undecodable bytes"),
    ],
    ids=["empty", "whitespace", "no claims", "binary", "undecodable"],
)
def test_a_draft_without_claims_exits_2_saying_why(small_index: Settings, tmp_path: Path, capsys: Capture,
                                                   data: bytes, message: str) -> None:
    path = tmp_path / "draft.md"
    path.write_bytes(data)
    assert cite(small_index, str(path)) == 2
    assert_refused(capsys, message.format(path=path))


def test_neither_draft_nor_batch_exits_2(small_index: Settings, capsys: Capture) -> None:
    assert cite(small_index) == 2
    assert_refused(capsys, "give a draft file", "--batch FILE")


def test_missing_index_exits_2(tmp_path: Path, draft: Path, capsys: Capture) -> None:
    missing = tmp_path / "no-index"
    assert main(["cite", "--index-dir", str(missing), str(draft)]) == 2
    assert_refused(capsys, "no index", f"reportqa index --index-dir {missing}")


# --- batches of claims --------------------------------------------------------------------------------


def test_batch_gives_one_line_per_input_line_in_order(small_index: Settings, tmp_path: Path) -> None:
    rows_in = [
        {"id": "c1", "claim": SUPPORTED},
        {"id": "c2", "claim": CONTRADICTED},
        {"id": "c3", "claim": UNSUPPORTED},
        {"id": 4, "claim": CHIP_SUPPORTED},
        {"claim": "星河半导体在2025年实现营业收入150亿元。"},
    ]
    lines = [json.dumps(row, ensure_ascii=False) for row in rows_in]
    lines.insert(2, '{"id": "broken", "claim": ')  # bad JSON
    lines.insert(4, json.dumps({"id": "no-claim", "statement": "字段名写错了"}, ensure_ascii=False))
    lines.insert(5, "")  # a blank line gives no output
    lines.insert(6, json.dumps({"id": "blank-claim", "claim": "  \t "}))
    lines.insert(7, json.dumps({"id": "not-text", "claim": 2.59}))
    lines.insert(8, "[1, 2]")
    source = tmp_path / "claims.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"

    assert cite(small_index, "--batch", str(source), "--out", str(out)) == 0

    assert len(out.read_text(encoding="utf-8").splitlines()) == 10  # the 11 lines less the blank one
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["c1", "c2", "line-3", "c3", "no-claim", "blank-claim", "not-text",
                                       "line-9", "4", ""]
    for row in rows:
        assert set(row) >= BATCH_FIELDS
    errors = {r["id"]: r for r in rows if "error" in r}
    assert list(errors) == ["line-3", "no-claim", "blank-claim", "not-text", "line-9"]
    assert errors["line-3"]["error"].startswith("line 3: not valid JSON")
    assert errors["no-claim"]["error"] == 'line 5: missing string field "claim"'
    assert "empty" in errors["blank-claim"]["error"] and errors["blank-claim"]["claim"] == "  \t "
    assert errors["not-text"]["error"] == 'line 8: missing string field "claim"'
    assert errors["line-9"]["error"] == "line 9: not a JSON object"
    for error in errors.values():
        assert error["verdict"] is None and error["report_value"] is None and error["citations"] == []

    checked = [r for r in rows if "error" not in r]
    assert [(r["claim"], r["verdict"]) for r in checked] == [
        (SUPPORTED, "supported"),
        (CONTRADICTED, "contradicted"),
        (UNSUPPORTED, "unsupported"),
        (CHIP_SUPPORTED, "supported"),
        ("星河半导体在2025年实现营业收入150亿元。", "contradicted"),
    ]
    for row in checked:
        assert set(row) == RESULT_FIELDS  # a batch claim has no place in a draft
    assert "2.59万亿美元" in checked[1]["report_value"] and checked[4]["report_value"] == "128亿元"
    assert checked[0]["citations"][0]["doc"] == AI_DOC and checked[3]["citations"][0]["doc"] == CHIP_DOC
    for row in (checked[0], checked[1], checked[3], checked[4]):
        check_citations(row["citations"])


def test_batch_to_stdout(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    source = tmp_path / "claims.jsonl"
    source.write_text(json.dumps({"id": "a", "claim": CONTRADICTED}, ensure_ascii=False) + "\n{oops\n",
                      encoding="utf-8")
    assert cite(small_index, "--batch", str(source)) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["verdict"]) for r in rows] == [("a", "contradicted"), ("line-2", None)]
    assert "error" in rows[1] and "error" not in rows[0]


def test_batch_with_undecodable_bytes_still_answers_every_line(small_index: Settings, tmp_path: Path) -> None:
    source = tmp_path / "claims.jsonl"
    good = json.dumps({"id": "ok", "claim": CHIP_SUPPORTED}, ensure_ascii=False).encode()
    source.write_bytes(good + b"\n\xff\xfe\x00junk\x80\n" + good.replace(b'"ok"', b'"ok2"') + b"\n")
    out = tmp_path / "results.jsonl"
    assert cite(small_index, "--batch", str(source), "--out", str(out)) == 0
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["ok", "line-2", "ok2"]
    assert [r["verdict"] for r in rows] == ["supported", None, "supported"]


def test_missing_batch_file_exits_2(small_index: Settings, tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "nope.jsonl"
    assert cite(small_index, "--batch", str(missing)) == 2
    assert_refused(capsys, "nope.jsonl")
