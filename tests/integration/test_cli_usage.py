"""The command as a person uses it: --version, help, pipes, stdin, settings errors, finding the index, tables."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import reportqa
import reportqa.cli
from reportqa.cli import main
from reportqa.cli_parser import build_parser
from reportqa.core.settings import Settings

from ..conftest import AI_DOC, CHIP_DOC, SMALL_DOCS, write_small_corpus
from .test_formats import report_pdf

Capture = pytest.CaptureFixture[str]
SCRIPT = Path(sys.executable).parent / "reportqa"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None,
        shell: str | None = None) -> subprocess.CompletedProcess[str]:
    """The installed script in a clean environment (no REPORTQA_* variables but those given)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    clean |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    command: str | list[str] = shell if shell is not None else [str(SCRIPT), *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=180, cwd=cwd, env=clean,
                          check=False, shell=shell is not None, executable="/bin/bash" if shell else None)


def test_version(capsys: Capture, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"reportqa {reportqa.__version__}"
    result = run("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, f"reportqa {reportqa.__version__}", "")


def test_every_flag_has_help_and_every_command_an_example() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == set(reportqa.cli.COMMANDS)
    for name, sub in commands.items():
        assert f"reportqa {name} " in (sub.epilog or ""), f"{name} has no example"
        for action in sub._actions:
            assert action.help and action.help.strip(), f"reportqa {name} {action.option_strings or action.dest}"
        assert "examples:" in sub.format_help()


def test_a_closed_pipe_ends_quietly(small_index: Settings, tmp_path: Path) -> None:
    """Far more output than a pipe buffers, read by `head -n 1`: the writer meets the closed pipe."""
    questions = [json.dumps({"id": f"q{i}", "question": "2026年全球AI支出预计是多少？"}, ensure_ascii=False)
                 for i in range(150)]
    (tmp_path / "in.jsonl").write_text("\n".join(questions) + "\n", encoding="utf-8")
    result = run(shell=f"set -o pipefail; {SCRIPT} ask --index-dir {small_index.index_dir} "
                       f"--batch in.jsonl | head -n 1", cwd=tmp_path)
    assert json.loads(result.stdout)["id"] == "q0"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == reportqa.cli.CLOSED_PIPE_STATUS


def test_dash_reads_the_question_from_stdin(small_index: Settings, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("全固态电池的能量密度有望达到多少？\n"))
    assert main(["ask", "--index-dir", str(small_index.index_dir), "--json", "-"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["question"] == "全固态电池的能量密度有望达到多少？" and "500瓦时" in answer["answer"]
    result = run("ask", "--index-dir", str(small_index.index_dir), "-", cwd=tmp_path,
                 stdin="星河半导体2025年营业收入是多少？")
    assert result.returncode == 0, result.stderr
    assert "128亿元" in result.stdout and CHIP_DOC in result.stdout
    monkeypatch.setattr(sys, "stdin", io.StringIO("   \n"))
    assert main(["ask", "--index-dir", str(small_index.index_dir), "-"]) == 2
    assert "empty" in capsys.readouterr().err


def test_a_draft_from_stdin(small_index: Settings, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("星河半导体在2025年实现营业收入150亿元。\n"))
    assert main(["cite", "--index-dir", str(small_index.index_dir), "-"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["verdict"] == "contradicted" and result["report_value"] == "128亿元"


def test_a_comma_separated_corpus_indexes_both_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: Capture) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_small_corpus(first)
    second.mkdir()
    (second / "note.txt").write_text("第一章 概述\n钠离子电池在2025年实现规模化量产。\n", encoding="utf-8")
    (first / "battery_storage.txt").unlink()
    monkeypatch.setenv("REPORTQA_CORPUS", f"{first},{second}")
    assert main(["index", "--index-dir", str(tmp_path / "idx"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["added"]) == sorted([*(set(SMALL_DOCS) - {"battery_storage.txt"}), "note.txt"])


def test_an_invalid_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (("serve",), ("ask", "问题"), ("docs",)):
        result = run(*args, cwd=tmp_path, env={"REPORTQA_PORT": "eighty"})
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            "reportqa: invalid setting REPORTQA_PORT='eighty': Input should be a valid integer, unable to parse "
            "string as an integer"]
        assert result.stdout == ""


def test_a_dotenv_names_the_index(small_index: Settings, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"REPORTQA_INDEX_DIR={small_index.index_dir}\n", encoding="utf-8")
    result = run("docs", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(line)["doc"] for line in result.stdout.splitlines()) == sorted(SMALL_DOCS)


def test_the_index_is_found_from_reportqa_home_or_a_subfolder(small_index: Settings, tmp_path: Path) -> None:
    home = tmp_path / "project"
    (home / "var").mkdir(parents=True)
    (home / "var" / "index").symlink_to(small_index.index_dir, target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_variable = run("ask", "--json", "星河半导体2025年营业收入是多少？", cwd=elsewhere,
                      env={"REPORTQA_HOME": str(home)})
    assert by_variable.returncode == 0, by_variable.stderr
    assert json.loads(by_variable.stdout)["citations"][0]["doc"] == CHIP_DOC
    (home / "drafts").mkdir()
    from_subfolder = run("docs", "--json", cwd=home / "drafts")
    assert from_subfolder.returncode == 0 and len(from_subfolder.stdout.splitlines()) == len(SMALL_DOCS)


def test_no_project_anywhere_gives_a_one_line_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: Capture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(reportqa.cli, "PACKAGE_ROOT", tmp_path / "not-a-checkout")
    assert main(["docs"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("reportqa docs: no index in")
    assert "REPORTQA_HOME" in err[0] and "reportqa index" in err[0]


def test_a_terminal_gets_tables_and_json_on_request(small_index: Settings, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: Capture) -> None:
    index_dir = str(small_index.index_dir)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["docs", "--index-dir", index_dir]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["document", "title", "chunks", "pages", "added"]
    assert SMALL_DOCS[AI_DOC][0] in table and table.rstrip().endswith(f"{len(SMALL_DOCS)} documents")
    assert main(["docs", "--index-dir", index_dir, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["doc"] for r in rows) == sorted(SMALL_DOCS)
    monkeypatch.setattr(sys, "stdin", io.StringIO("2026年全球AI支出预计达到3.1万亿美元。"))
    assert main(["cite", "--index-dir", index_dir, "-"]) == 0
    verdicts = capsys.readouterr().out
    assert "contradicted" in verdicts and "2.59万亿美元" in verdicts and f"{AI_DOC}:" in verdicts


def test_a_log_gets_progress_lines_on_stderr(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    result = run("index", "--index-dir", str(tmp_path / "idx"), "--corpus", str(corpus), cwd=tmp_path,
                 env={"REPORTQA_EMBED_DIM": "16"})
    assert result.returncode == 0, result.stderr
    assert f"documents (clean, chunk, tokenise): {len(SMALL_DOCS)}/{len(SMALL_DOCS)}" in result.stderr
    assert "embedding the sentences and table rows of every chunk (" in result.stderr and "\r" not in result.stderr
    assert json.loads(result.stdout)["documents"] == len(SMALL_DOCS)


def test_page_end_for_a_passage_across_a_page_break(tmp_path: Path, capsys: Capture) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "storage.pdf").write_bytes(report_pdf())
    index_dir = str(tmp_path / "idx")
    assert main(["index", "--index-dir", index_dir, "--corpus", str(folder), "--json"]) == 0
    capsys.readouterr()
    assert main(["ask", "--index-dir", index_dir, "--json", "储能项目的投资回收期缩短到多少年？"]) == 0
    answer = json.loads(capsys.readouterr().out)
    crossing = next(c for c in answer["citations"] if "投资回收期" in c["text"])
    assert (crossing["page"], crossing["page_end"]) == (1, 2)
    assert main(["ask", "--index-dir", index_dir, "储能项目的投资回收期缩短到多少年？"]) == 0
    text = capsys.readouterr().out
    assert "storage.pdf:" in text and "(pages 1–2)" in text


def test_a_missing_optional_package_names_its_extra(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    def needs_matplotlib(_: argparse.Namespace) -> int:
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setitem(reportqa.cli.COMMANDS, "eval", needs_matplotlib)
    assert main(["eval"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "reportqa eval: needs matplotlib, which the [eval] extra installs: pip install 'reportqa[eval]'"]


def test_a_misspelt_variable_is_warned_about(small_index: Settings, monkeypatch: pytest.MonkeyPatch,
                                            capsys: Capture) -> None:
    monkeypatch.setenv("REPORTQA_TOPK", "3")
    assert main(["docs", "--index-dir", str(small_index.index_dir), "--json"]) == 0
    assert "reportqa: warning: REPORTQA_TOPK is not a setting (did you mean REPORTQA_TOP_K?)" in capsys.readouterr().err
