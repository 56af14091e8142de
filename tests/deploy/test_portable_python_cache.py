"""The portable interpreter's cache repairs itself: a prefix left by a failed or foreign build (a
symlink into a tree that was since deleted, a half-finished install) never makes every later
bundle build fail. The build itself is stopped right after the check, at the first tool it needs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def portable(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("portable_python_under_test",
                                                  ROOT / "packaging" / "linux" / "portable_python.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("COUNTER_APP_PORTABLE_PYTHON_CACHE", str(tmp_path / "cache"))

    class Reached(Exception):
        pass

    def stop(root):
        raise Reached(root)

    monkeypatch.setattr(module, "toolchain", stop)
    module.Reached = Reached
    return module


def test_dangling_install_link_is_replaced_by_a_build(portable, tmp_path):
    root = portable.cache_dir()
    root.mkdir(parents=True)
    gone = tmp_path / "deleted-worktree" / "cpython"
    (root / "install").symlink_to(gone)
    with pytest.raises(portable.Reached):
        portable.build()
    assert not (root / "install").is_symlink()
    assert not (root / "install").exists()


def test_half_installed_prefix_is_rebuilt_not_reused(portable):
    root = portable.cache_dir()
    (root / "install" / "lib").mkdir(parents=True)
    (root / "install" / "lib" / "leftover.so").write_bytes(b"\x7fELF")
    with pytest.raises(portable.Reached):
        portable.build()
    assert not (root / "install").exists()


def test_a_finished_build_is_reused(portable):
    python = portable.interpreter(portable.cache_dir() / "install")
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    assert portable.build() == python
