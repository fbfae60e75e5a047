"""Fixtures for the reliability tests."""

from __future__ import annotations

import shutil

import pytest

from reportqa.core.settings import Settings


@pytest.fixture(scope="module")
def index_copy(small_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A private copy of the small index for one module: the /documents routes can add and delete documents,
    and hostile or fuzzed requests must never change the session's shared index."""
    target = tmp_path_factory.mktemp("reliability_index") / "index"
    shutil.copytree(small_index.index_dir, target)
    return small_index.model_copy(update={"index_dir": target})
