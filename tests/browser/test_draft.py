"""The draft check: a wrong figure flagged against the report, and the checked draft exported as Markdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
DRAFT = "2026年全球AI支出预计达到3.1万亿美元。超导量子比特、离子阱和光量子是三条主要技术路线。"


def test_a_draft_check_flags_the_wrong_figure_and_exports_markdown(page: Any, shoot: Callable[..., Path],
                                                                   tmp_path: Path) -> None:
    page.click("#tab-cite")
    assert page.locator("#export-md").is_disabled()
    page.fill("#draft", DRAFT)
    page.click("#check")
    claims = page.locator(".claim")
    claims.first.wait_for(state="visible")
    wrong = claims.filter(has_text="3.1万亿美元").first
    assert wrong.get_attribute("data-verdict") == "contradicted"
    assert wrong.locator(".verdict").inner_text() == "与报告矛盾"
    assert "报告原文: 2.59万亿美元" in wrong.inner_text()
    assert claims.filter(has_text="离子阱").first.get_attribute("data-verdict") == "supported"
    shoot("draft")

    with page.expect_download() as download:
        page.click("#export-md")
    saved = tmp_path / "checked.md"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "draft-checked.md"
    markdown = saved.read_text(encoding="utf-8")
    flagged = "2026年全球AI支出预计达到3.1万亿美元。 **[⚠ 与报告不符：报告为 2.59万亿美元]**[^1]"
    assert markdown.startswith(flagged)
    assert "[^1]: 与之不符的原文: *全球人工智能产业展望*" in markdown and "[^2]: 出处:" in markdown

    page.fill("#draft", DRAFT + "补充一句。")
    assert page.locator("#export-md").is_disabled()  # an export must be of the text that was checked
    page.fill("#draft", "Global AI spending is expected to reach 3.1 trillion dollars in 2026.")
    page.click("#check")
    page.locator(".claim").first.wait_for(state="visible")
    assert page.locator("#cite-status").inner_text().startswith("1 claims:")
    assert page.locator(".claim .verdict").inner_text() in {"supported", "contradicted", "unsupported"}
