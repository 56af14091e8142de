"""Where things live: the shipped resources and the window's data directory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "counter-app"


def resources_root() -> Path:
    """The ``resources`` folder: inside a PyInstaller bundle, or next to the packages."""
    override = os.environ.get("COUNTER_APP_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    import resources  # the package that ships the files

    return Path(resources.__file__).resolve().parent


def resource_path(relative: str) -> Path:
    return resources_root() / relative


def data_home() -> Path:
    """The window's data directory: ``COUNTER_APP_HOME`` wins, else the platform's user data dir."""
    override = os.environ.get("COUNTER_APP_HOME")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
