"""The local backend never imports Ray: its entry points load without it, and the Ray backend says what to install."""

from __future__ import annotations

import subprocess
import sys

from reportqa.core.settings import Settings


def test_local_entry_points_do_not_import_ray() -> None:
    code = ("import sys, reportqa.cli, reportqa.engine, reportqa.api.app, reportqa.collection, reportqa.index.sharded; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_backend_and_shards_are_settings() -> None:
    settings = Settings(backend="ray", shards=4, ray_address="10.0.0.5:6379")  # type: ignore[call-arg]
    assert (settings.backend, settings.shards, settings.ray_address) == ("ray", 4, "10.0.0.5:6379")
    assert Settings().backend == "local" and Settings().shards is None  # type: ignore[call-arg]


def test_require_ray_names_the_extra(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import builtins

    import pytest

    from reportqa.scaleout.cluster import require_ray

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(RuntimeError, match=r"reportqa\[ray\]"):
        require_ray()
