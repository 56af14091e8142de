"""The Linux bundle runs where the centers are: 统信 UOS 20 has glibc 2.28 (麒麟 V10: 2.31).

Every ELF file of the bundle is read with pyelftools (an implementation independent of the one
``packaging/debian/build_deb.py`` uses for Depends): no file may require a GLIBC symbol version
above 2.28, or the dynamic loader refuses it on UOS 20 with "version `GLIBC_2.xx' not found".
Libraries the bundle leaves to the system (X11/xcb, fontconfig, CUPS, libstdc++…) are not in it
and are declared in the package's Depends instead (``test_deb.py``).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

pytestmark = pytest.mark.timeout(3600)  # the first session builds the portable interpreter and the bundle

TARGET = (2, 28)


def glibc_needs(path: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y versions ``path`` requires (its .gnu.version_r entries)."""
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        found = set()
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _verneed, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        name = aux.name
                        if name.startswith("GLIBC_2."):
                            found.add(tuple(int(x) for x in name[len("GLIBC_"):].split(".")))
        return found


def elf_files(folder: Path) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def test_no_file_in_the_bundle_needs_a_glibc_newer_than_2_28(bundle):
    files = elf_files(bundle.folder)
    assert len(files) > 100  # the interpreter, its modules, Qt, OpenCV…: the walk found the bundle
    too_new = {}
    highest = (2, 0)
    for path in files:
        needs = glibc_needs(path)
        if needs:
            highest = max(highest, max(needs))
        newer = sorted(v for v in needs if v > TARGET)
        if newer:
            too_new[path.relative_to(bundle.folder).as_posix()] = "GLIBC_" + ".".join(map(str, newer[-1]))
    assert not too_new, f"{len(too_new)} files need a newer glibc than 2.28: {dict(list(too_new.items())[:20])}"
    print(f"highest GLIBC version needed: {'.'.join(map(str, highest))} over {len(files)} ELF files")


def test_the_reader_finds_a_new_symbol_version(tmp_path):
    """The check itself: a library built here against this machine's glibc (2.36), calling
    pthread and dl functions (moved into libc, with new symbol versions, in glibc 2.34), is reported."""
    import shutil
    import subprocess

    src = tmp_path / "uses_new.c"
    src.write_text("#include <pthread.h>\n#include <dlfcn.h>\n"
                   "int f(void){ pthread_mutex_t m; pthread_mutex_init(&m, 0); return dlclose(dlopen(\"x\", 0)); }\n")
    lib = tmp_path / "libnew.so"
    subprocess.run([shutil.which("cc") or "cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    needs = glibc_needs(lib)
    assert max(needs) >= (2, 34), needs  # pthread and dl entry points moved into libc in 2.34
    assert lib in elf_files(tmp_path) and src not in elf_files(tmp_path)
