"""Settings: comma-separated lists, one-line errors, .env files, and where default paths are anchored."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportqa.core.settings import SettingsError, anchored, find_home, load_settings, unknown_variables


def test_list_settings_accept_comma_separated_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTQA_CORPUS", "corpus, more/reports ,extra.jsonl")
    monkeypatch.setenv("REPORTQA_CORS_ORIGINS", "http://a.example,http://b.example")
    settings = load_settings()
    assert settings.corpus == [Path("corpus"), Path("more/reports"), Path("extra.jsonl")]
    assert settings.cors_origins == ["http://a.example", "http://b.example"]


def test_json_lists_still_work_and_a_single_value_is_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTQA_CORS_ORIGINS", '["http://a.example", "http://b.example"]')
    monkeypatch.setenv("REPORTQA_CORPUS", "corpus")
    settings = load_settings()
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.corpus == [Path("corpus")]
    monkeypatch.setenv("REPORTQA_CORS_ORIGINS", "")
    assert load_settings().cors_origins == []


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("REPORTQA_PORT", "abc", "REPORTQA_PORT='abc': Input should be a valid integer"),
    ("REPORTQA_PORT", "70000", "REPORTQA_PORT='70000': Input should be less than or equal to 65535"),
    ("REPORTQA_WORKERS", "0", "REPORTQA_WORKERS='0': Input should be greater than or equal to 1"),
    ("REPORTQA_RERANK", "perhaps", "REPORTQA_RERANK='perhaps': Input should be a valid boolean"),
    ("REPORTQA_CORS_ORIGINS", "[a,b", "REPORTQA_CORS_ORIGINS='[a,b': not a JSON list"),
])
def test_an_invalid_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str,
                                                            value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("invalid setting ") and expected in message
    assert "\n" not in message and "pydantic" not in message


def test_two_bad_settings_are_both_named_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTQA_PORT", "x")
    monkeypatch.setenv("REPORTQA_TOP_K", "-1")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "REPORTQA_PORT" in message and "REPORTQA_TOP_K" in message and "\n" not in message


def test_overlap_must_be_smaller_than_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTQA_CHUNK_TOKENS", "40")
    monkeypatch.setenv("REPORTQA_CHUNK_OVERLAP_TOKENS", "40")
    with pytest.raises(SettingsError, match="CHUNK_OVERLAP_TOKENS=40: must be less than REPORTQA_CHUNK_TOKENS"):
        load_settings()


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("REPORTQA_TOP_K=7\nREPORTQA_CORS_ORIGINS=http://x.example,http://y.example\n"
                                   "REPORTQA_PORT=9000\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REPORTQA_PORT", "9100")
    settings = load_settings()
    assert settings.top_k == 7 and settings.port == 9100
    assert settings.cors_origins == ["http://x.example", "http://y.example"]
    assert load_settings(port=9200).port == 9200  # a CLI flag wins over both


def test_the_project_dotenv_is_read_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / ".env").write_text("REPORTQA_TOP_K=9\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    assert load_settings(home).top_k == 9
    assert load_settings().top_k == 5


def test_a_bad_value_in_dotenv_is_reported_like_one_in_the_environment(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("REPORTQA_MAX_TOP_K=many\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="REPORTQA_MAX_TOP_K='many'"):
        load_settings()


def test_home_from_the_variable_then_the_nearest_project_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "var" / "index").mkdir(parents=True)
    (project / "var" / "index" / "CURRENT").write_text("versions/v000001\n", encoding="utf-8")
    deep = project / "reports" / "2026"
    deep.mkdir(parents=True)
    assert find_home(deep, {}) == project.resolve()
    assert find_home(deep, {"REPORTQA_HOME": str(tmp_path)}) == tmp_path.resolve()
    assert find_home(tmp_path, {}) is None
    source = tmp_path / "checkout"
    source.mkdir()
    (source / "pyproject.toml").write_text('[project]\nname = "reportqa"\n', encoding="utf-8")
    assert find_home(tmp_path, {}, package_root=source) == source


def test_default_paths_are_anchored_to_home_and_given_ones_are_not(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = anchored(load_settings(), tmp_path)
    assert settings.index_dir == tmp_path / "var" / "index"
    assert settings.corpus == [tmp_path / "corpus"]
    assert settings.feedback_file == tmp_path / "var" / "feedback.jsonl"
    monkeypatch.setenv("REPORTQA_CORPUS", "mine")
    given = load_settings(tmp_path, index_dir=Path("elsewhere"))
    assert given.index_dir == Path("elsewhere") and given.corpus == [Path("mine")]


def test_a_misspelt_variable_is_named_with_the_real_one() -> None:
    notes = unknown_variables({"REPORTQA_TOPK": "3", "REPORTQA_TOP_K": "3", "REPORTQA_HOME": "/x", "PATH": "/bin"})
    assert notes == ["REPORTQA_TOPK is not a setting (did you mean REPORTQA_TOP_K?)"]
