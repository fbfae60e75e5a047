"""Loading sources: encodings, empty and binary files, unsupported types, JSONL; nothing is silently lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reportqa.ingest.decoding import SourceError, decode
from reportqa.ingest.load import load_documents

GB_TEXT = "第一章 储能市场\n新型储能装机规模达到95吉瓦，预计2030年突破300吉瓦。\n"
UTF16_TEXT = "1.1 量子计算\n超导量子比特数量在2025年已经超过1000个。\n"
UTF8_TEXT = "星河半导体在2025年实现营业收入128亿元。\n"
BOM_TEXT = "全球AI支出预计达到2.59万亿美元。\n"


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "gb.txt").write_bytes(GB_TEXT.encode("gb18030"))
    (folder / "utf16.txt").write_bytes(UTF16_TEXT.encode("utf-16"))
    (folder / "utf16be.txt").write_bytes(b"\xfe\xff" + UTF16_TEXT.encode("utf-16-be"))
    (folder / "plain.md").write_text(UTF8_TEXT, encoding="utf-8")
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf" + BOM_TEXT.encode("utf-8"))
    (folder / "crlf.txt").write_bytes(UTF8_TEXT.replace("\n", "\r\n").encode("utf-8"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b" \n\n\t\n")
    (folder / "junk.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    (folder / "noise.txt").write_bytes(b"\xff\xff\x80\x80\xfe\x30" * 50)
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    (folder / "manifest.json").write_text(json.dumps({"gb.txt": {"title": "储能观察"}}, ensure_ascii=False),
                                          encoding="utf-8")
    return folder


GOOD = {"gb.txt": GB_TEXT, "utf16.txt": UTF16_TEXT, "utf16be.txt": UTF16_TEXT, "plain.md": UTF8_TEXT,
        "bom.txt": BOM_TEXT, "crlf.txt": UTF8_TEXT}
BAD = {"empty.txt": "empty", "blank.txt": "empty", "junk.txt": "binary", "noise.txt": "undecodable",
       "report.pdf": "broken PDF"}  # a truncated PDF: readable type, unreadable content


def test_good_files_load_with_their_text_and_bad_ones_are_skipped_with_a_reason(mixed_folder: Path) -> None:
    documents, skipped = load_documents([mixed_folder])
    loaded = {d.doc: d for d in documents}
    assert set(loaded) == set(GOOD)
    for name, text in GOOD.items():
        assert loaded[name].text == text, name
        assert "\ufeff" not in loaded[name].text and "\r" not in loaded[name].text
    assert loaded["gb.txt"].title == "储能观察"
    assert loaded["utf16.txt"].title == "utf16"  # no manifest entry: the file stem
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert set(reasons) == set(BAD)
    for name, words in BAD.items():
        assert words in reasons[name], (name, reasons[name])
    for s in skipped:
        assert Path(s.path).parent == mixed_folder
    # nothing else is lost: every file but the manifest is either a document or a skip
    files = {p.name for p in mixed_folder.iterdir() if p.name != "manifest.json"}
    assert set(loaded) | set(reasons) == files
    assert not set(loaded) & set(reasons)


def test_a_single_file_and_a_jsonl_load_together(mixed_folder: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "extracted.jsonl"
    rows = [{"id": "R-1", "title": "预提取报告", "text": "正文第一段。"},
            {"id": "R-2", "text": "没有标题的正文。"}]
    jsonl.write_text("\n\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    documents, skipped = load_documents([mixed_folder / "gb.txt", jsonl])
    assert [(d.doc, d.title, d.text) for d in documents] == [
        ("gb.txt", "储能观察", GB_TEXT),
        ("R-1", "预提取报告", "正文第一段。"),
        ("R-2", "R-2", "没有标题的正文。"),
    ]
    assert skipped == []


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        load_documents([tmp_path / "absent"])


def test_decode_prefers_utf8_then_gb18030() -> None:
    assert decode("纯文本".encode()) == "纯文本"
    assert decode("纯文本".encode("gb18030")) == "纯文本"
    assert decode("纯文本".encode("utf-16")) == "纯文本"
    with pytest.raises(SourceError, match="binary"):
        decode(b"abc\x00def")
