"""The test reader behind the standard SDT API: ``tests/devices/sdtapi/fake_sdtapi.c``, built with
``cc``, serving cards from files in a folder named by ``SDTAPI_FAKE_DIR``."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from devices.idcard.card_data import encode_card_text

SOURCE = Path(__file__).resolve().parent / "devices" / "sdtapi" / "fake_sdtapi.c"


def build_library(out_dir: Path) -> Path:
    out = out_dir / "libsdtapi.so"
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler (cc) is needed to build the test reader library"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(out), str(SOURCE)], check=True)
    return out


class Desk:
    """The reader's state folder the C library reads on every call."""

    def __init__(self, folder: Path):
        self.folder = folder

    def place(self, card) -> None:
        (self.folder / "card.bin").write_bytes(encode_card_text(card) + card.photo_wlt)

    def lift(self) -> None:
        (self.folder / "card.bin").unlink(missing_ok=True)

    def fault(self, name: str | None) -> None:
        path = self.folder / "fault"
        if name:
            path.write_text(name)
        else:
            path.unlink(missing_ok=True)

    def calls(self) -> list[str]:
        path = self.folder / "calls.log"
        return path.read_text().split("\n")[:-1] if path.exists() else []
