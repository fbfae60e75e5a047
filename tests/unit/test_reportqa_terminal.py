"""Terminal tables: columns line up with Chinese text counted double-width; long cells are cut."""

from __future__ import annotations

from reportqa.terminal import clip, documents_table, ingest_summary, table, verdicts_table, width


def test_columns_line_up_with_wide_characters() -> None:
    text = table(["doc", "title", "chunks"], [("a.txt", "全球人工智能", 12), ("longer_name.pdf", "AI", None)])
    header, rule, first, second = text.splitlines()
    assert rule.startswith("-" * len("longer_name.pdf") + "  ")
    assert width(first[: first.index("12")]) == width(second[: second.index("—")])  # same column start
    assert header.split() == ["doc", "title", "chunks"]


def test_long_cells_are_cut_to_the_limit_with_an_ellipsis() -> None:
    cut = clip("研究" * 40, 20)
    assert cut.endswith("…") and width(cut) <= 20
    assert clip("a\nb  c") == "a b c"


def test_ingest_summary_lists_changes_and_reasons() -> None:
    report = {"version": "var/index/versions/v000002-20261202", "documents": 3, "chunks": 40,
              "added": ["new.pdf"], "updated": [], "removed": ["old.txt"], "unchanged": ["a.txt", "b.txt"],
              "skipped": [{"path": "scan.pdf", "reason": "scanned PDF: no text layer (OCR it first)"}]}
    text = ingest_summary(report)
    assert text.splitlines()[0] == "index v000002-20261202: 3 documents, 40 chunks"
    assert "added    new.pdf" in text and "removed  old.txt" in text
    assert "skipped  scan.pdf" in text and "OCR it first" in text
    assert text.endswith("2 unchanged")


def test_documents_and_verdicts_tables() -> None:
    docs = documents_table([{"doc": "a.txt", "title": "报告", "chunks": 3, "pages": None, "added": "2026-12-02"}])
    assert "a.txt" in docs and "报告" in docs and docs.endswith("1 documents")
    assert documents_table([]) == "no documents indexed"
    citation = {"doc": "a.txt", "line_start": 4, "line_end": 5}
    verdicts = verdicts_table([
        {"line": 1, "verdict": "contradicted", "claim": "支出达到3万亿", "report_value": "2.59万亿美元",
         "citations": [citation]},
        {"line": 2, "verdict": "unsupported", "claim": "火星", "report_value": None, "citations": []}])
    assert "a.txt:4-5" in verdicts and "2.59万亿美元" in verdicts
    assert verdicts.endswith("2 claims: 0 supported, 1 contradicted, 1 unsupported")
