"""Wrap the PyInstaller bundle into a Debian package for UOS / Kylin / Debian desktops.

    .venv/bin/python packaging/debian/build_deb.py                      # dist/counter-app → dist/*.deb
    .venv/bin/python packaging/debian/build_deb.py --bundle DIR --out DIR --compression none

Layout of the package:

    /opt/counter-app/                          the bundle, untouched
    /usr/bin/counter-app                       launcher (input-method fix-up, then exec the bundle)
    /usr/share/applications/counter-app.desktop
    /usr/share/icons/hicolor/{256x256,scalable}/apps/counter-app.{png,svg}
    /usr/share/doc/counter-app/copyright       our licence and the bundled fonts' licences
    DEBIAN/{control,postinst,postrm,md5sums}

``Depends`` is derived from the bundle, not written by hand: every shared library some bundled ELF
file needs (its DT_NEEDED entries) that the bundle does not itself contain must come from the
system; its package is found with ``dpkg -S`` on the build machine, or from a short table for the
X11 helpers a build server may lack. ``libc6 (>= 2.xx)`` is the highest GLIBC symbol version any
bundled file requires — so dpkg refuses, with a clear message, to install a bundle built on a newer
system than the target (build release packages on the oldest supported base, see README).

Built with ``dpkg-deb --root-owner-group``: no fakeroot needed, every file owned by root.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PACKAGE = "counter-app"
INSTALL_DIR = "opt/counter-app"
DESCRIPTION = """counter application for Henan veterans' joint-service windows
 退役军人服务“一件事”综合受理窗口.
 .
 Counter application for Henan's discharged veterans' joint ("one thing")
 service: ID-card reading, photo capture, the joint application form, printing,
 sealing and synchronisation with the provincial platform. Windows' data stays
 in each operator's home directory and is kept when the package is removed."""

# Sonames a build machine may not have installed, and the package that provides them on
# Debian-family desktops (UOS 20 / Kylin V10 / Debian 10+ all use these names).
FALLBACK_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libcups.so.2": "libcups2",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
}
# Provided by libc6 itself (versioned below from the GLIBC symbols).
LIBC_SONAMES = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|libresolv|libanl|ld-linux[-\w.]*)\.so")
# Some system packages were renamed across Debian releases; accept either name.
ALTERNATIVES = {"libgcc-s1": "libgcc-s1 | libgcc1", "libglib2.0-0t64": "libglib2.0-0t64 | libglib2.0-0",
                "libcups2t64": "libcups2t64 | libcups2", "libssl3t64": "libssl3t64 | libssl3"}


# Set the real address with --maintainer or DEBFULLNAME_EMAIL when building for a province.
DEFAULT_MAINTAINER = "counter-app maintainers <counter-app@example.org>"


class PackagingError(Exception):
    pass


# ---------------------------------------------------------------- facts about the bundle

def project_version() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]["version"]


def debian_arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_dependencies(path: Path) -> tuple[list[str], list[str]]:
    """(DT_NEEDED sonames, symbol versions required, e.g. GLIBC_2.34) of one ELF file.

    Read straight from the section headers (.dynamic, .gnu.version_r and their string tables):
    one ``objdump`` process per file costs seconds over a bundle of ~250 libraries.
    """
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return [], []
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
        sh_fmt, dyn_fmt = order + "IIQQQQIIQQ", order + "qQ"
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
        sh_fmt, dyn_fmt = order + "IIIIIIIIII", order + "iI"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum)]

    def string(strtab: int, offset: int) -> str:
        base = sections[strtab][4] + offset
        return data[base:data.index(b"\0", base)].decode("ascii", "replace")

    needed, versions = [], []
    for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type == 6:  # SHT_DYNAMIC
            step = struct.calcsize(dyn_fmt)
            for pos in range(offset, offset + size, step):
                tag, value = struct.unpack_from(dyn_fmt, data, pos)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    needed.append(string(link, value))
        elif sh_type == 0x6FFFFFFE:  # SHT_GNU_verneed
            pos = offset
            while True:
                _, cnt, _, aux, nxt = struct.unpack_from(order + "HHIII", data, pos)
                apos = pos + aux
                for _ in range(cnt):
                    _, _, _, name, anext = struct.unpack_from(order + "IHHII", data, apos)
                    versions.append(string(link, name))
                    apos += anext
                if not nxt:
                    break
                pos += nxt
    return needed, versions


def elf_facts(bundle: Path) -> tuple[set[str], set[str], tuple[int, ...]]:
    """(needed sonames, sonames the bundle provides, highest GLIBC version required)."""
    provided = {p.name for p in bundle.rglob("*")}
    needed: set[str] = set()
    glibc: tuple[int, ...] = (2, 2)
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file() or not _is_elf(path):
            continue
        try:
            sonames, versions = elf_dependencies(path)
        except (ValueError, IndexError, struct.error):
            raise PackagingError(f"cannot read the ELF file {path}") from None
        needed.update(sonames)
        for v in versions:
            if v.startswith("GLIBC_2."):
                glibc = max(glibc, tuple(int(x) for x in v[6:].split(".") if x.isdigit()))
    return needed, provided, glibc


# ldconfig's tag for the machine's own word size (32-bit compat libraries are listed too).
_LDCONFIG_TAGS = {"x86_64": "x86-64", "aarch64": "AArch64", "loongarch64": "LoongArch", "mips64": "64bit"}


def _ldconfig_paths() -> dict[str, str]:
    import platform

    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    tag = _LDCONFIG_TAGS.get(platform.machine(), "")
    paths: dict[str, str] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and tag in m.group(2):
            paths.setdefault(m.group(1), m.group(3))
    return paths


def _dpkg_owners(paths: list[str]) -> dict[str, str]:
    """{path: package} for the files dpkg knows, asked in one call (also by the symlink's target)."""
    candidates = sorted({p for path in paths for p in (path, os.path.realpath(path))})
    if not candidates:
        return {}
    out = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True).stdout
    owners: dict[str, str] = {}
    for line in out.splitlines():
        if ": " in line:
            package, path = line.split(": ", 1)
            owners[path.strip()] = package.split(":")[0].split(",")[0].strip()
    return {p: owners.get(p) or owners.get(os.path.realpath(p)) for p in paths if
            owners.get(p) or owners.get(os.path.realpath(p))}


def system_depends(bundle: Path) -> tuple[list[str], list[str]]:
    """(Depends entries, sonames nobody could map)."""
    needed, provided, glibc = elf_facts(bundle)
    missing = sorted(s for s in needed - provided if not LIBC_SONAMES.match(s))
    paths = _ldconfig_paths()
    owners = _dpkg_owners([paths[s] for s in missing if s in paths])
    packages: set[str] = set()
    unknown = []
    for soname in missing:
        package = owners.get(paths.get(soname, "")) or FALLBACK_PACKAGES.get(soname)
        if package is None:
            unknown.append(soname)
        elif package != "libc6":
            packages.add(package)
    depends = [f"libc6 (>= {'.'.join(map(str, glibc))})"] + [ALTERNATIVES.get(p, p) for p in sorted(packages)]
    # Group membership tools used by the maintainer scripts.
    depends.append("passwd")
    return depends, unknown


# ---------------------------------------------------------------- building

def _du_kib(folder: Path) -> int:
    total = 0
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += (p.stat().st_size + 1023) // 1024
    return total


def _md5sums(staging: Path) -> str:
    lines = []
    for p in sorted(staging.rglob("*")):
        rel = p.relative_to(staging)
        if rel.parts[0] == "DEBIAN" or p.is_symlink() or not p.is_file():
            continue
        lines.append(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {rel.as_posix()}\n")
    return "".join(lines)


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link the bundle's files into the staging tree (no 400 MB copy); copy across filesystems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _normalise_modes(staging: Path) -> None:
    """Directories 755, executables 755, other files 644 (the bundle may carry odd modes from wheels).

    Files are usually hard links to the bundle: one whose mode must change is copied first, so
    the bundle itself is never modified."""
    for p in staging.rglob("*"):
        if p.is_symlink():
            continue
        if p.is_dir():
            p.chmod(0o755)
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        shared_library = ".so" in p.name and _is_elf(p)
        wanted = 0o644 if shared_library else 0o755 if mode & stat.S_IXUSR or _is_elf(p) else 0o644
        if mode != wanted:
            if p.stat().st_nlink > 1:
                data = p.read_bytes()
                p.unlink()
                p.write_bytes(data)
            p.chmod(wanted)


def _own_copy(p: Path) -> None:
    """Replace a hard link into the bundle by a private copy before changing the file."""
    if p.stat().st_nlink > 1:
        data = p.read_bytes()
        mode = stat.S_IMODE(p.stat().st_mode)
        p.unlink()
        p.write_bytes(data)
        p.chmod(mode)


def _clear_foreign_runpaths(staging: Path) -> int:
    """Blank RPATH/RUNPATH entries naming the build machine's folders (e.g. the interpreter's own
    lib dir, ``/root/.pyenv/...``): on the target they point nowhere, or somewhere wrong. The
    string is overwritten in place with ``$ORIGIN`` (as ``chrpath -r`` does); ``$ORIGIN``-relative
    paths the wheels set stay. Returns the number of files changed."""
    changed = 0
    for p in staging.rglob("*"):
        if p.is_symlink() or not p.is_file() or not _is_elf(p):
            continue
        spans = [span for span in runpath_spans(p) if not span[1].startswith("$ORIGIN")]
        if not spans:
            continue
        _own_copy(p)
        data = bytearray(p.read_bytes())
        for offset, text in spans:
            replacement = b"$ORIGIN"
            data[offset:offset + len(text.encode())] = replacement + b"\0" * (len(text.encode()) - len(replacement))
        p.write_bytes(bytes(data))
        changed += 1
    return changed


def runpath_spans(path: Path) -> list[tuple[int, str]]:
    """(file offset, text) of each RPATH/RUNPATH string of an ELF file (64-bit little-endian)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    spans = []
    for _, sh_type, _, _, offset, size, link, _, _, _ in sections:
        if sh_type != 6:  # SHT_DYNAMIC
            continue
        for pos in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, pos)
            if tag == 0:
                break
            if tag in (15, 29):  # DT_RPATH, DT_RUNPATH
                start = sections[link][4] + value
                text = data[start:data.index(b"\0", start)].decode("utf-8", "replace")
                if text:
                    spans.append((start, text))
    return spans


# The one file that must keep its symbols: PyInstaller appends its archive to the executable,
# and strip would cut it off.
UNSTRIPPABLE = (f"{INSTALL_DIR}/{PACKAGE}",)


def patched_by_auditwheel(path: Path) -> bool:
    """Libraries auditwheel vendored into a wheel (``<dist>.libs/``) and modules it pointed at them
    (an ``$ORIGIN/…libs`` search path) were rewritten by patchelf: strip corrupts their program headers
    (numpy's OpenBLAS then fails with "ELF load command address/offset not page-aligned")."""
    if path.parent.name.endswith(".libs"):
        return True
    return any("$ORIGIN" in text and ".libs" in text for _, text in runpath_spans(path))


def _strip(staging: Path) -> int:
    """strip --strip-unneeded every shared object and program of the bundle (debug info and
    symbol tables the program never reads; a fifth of the size). Returns the number stripped."""
    strip = shutil.which("strip")
    if strip is None:
        raise PackagingError("strip (binutils) is needed to build the package: apt-get install binutils")
    targets = []
    for p in staging.joinpath(INSTALL_DIR).rglob("*"):
        if p.is_symlink() or not p.is_file() or not _is_elf(p):
            continue
        if p.relative_to(staging).as_posix() in UNSTRIPPABLE or patched_by_auditwheel(p):
            continue
        _own_copy(p)
        targets.append(str(p))
    for i in range(0, len(targets), 100):
        proc = subprocess.run([strip, "--strip-unneeded", "--remove-section=.comment", "--remove-section=.note",
                               *targets[i:i + 100]], capture_output=True, text=True)
        if proc.returncode != 0:
            raise PackagingError(f"strip failed: {proc.stderr.strip()[:2000]}")
    return len(targets)


def _changelog(version: str, maintainer: str) -> bytes:
    """The native package's changelog.gz (gzip -9n: no name, no time stamp, reproducible)."""
    import email.utils
    import gzip

    when = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or int(time.time())
    text = (f"{PACKAGE} ({version}) stable; urgency=medium\n\n"
            f"  * Release {version}. What changed is in the project's README and history.\n\n"
            f" -- {maintainer}  {email.utils.formatdate(when, localtime=False)}\n")
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


LINTIAN_OVERRIDES = """\
# The program is a self-contained PyInstaller bundle (its own Python, Qt and libraries, so one
# package runs on UOS 20, Kylin V10 and Debian alike). Such a bundle lives in /opt as a whole;
# /usr/bin/counter-app, the desktop entry and the icons are in the FHS places.
counter-app: dir-or-file-in-opt [opt/counter-app/*]
# The bundle carries the libraries its wheels were built with (zlib, libpng, libjpeg, tiff, freetype,
# expat, openjpeg, lcms2, FFmpeg parts in OpenCV…): the versions the program was tested with,
# independent of what each target system has. System-wide services (X11/xcb, fontconfig, CUPS,
# D-Bus) are taken from the system and declared in Depends.
counter-app: embedded-library * [opt/counter-app/_internal/*]
# PyInstaller appends the program's archive to this executable: stripping it would cut the archive off.
counter-app: unstripped-binary-or-object [opt/counter-app/counter-app]
# Libraries auditwheel vendored into the wheels, and the modules it linked to them, were rewritten by
# patchelf; strip corrupts such files (numpy's OpenBLAS no longer loads). They stay as the wheels ship them.
counter-app: unstripped-binary-or-object [opt/counter-app/_internal/*]
# CPython extension modules that call no libc function at all (pure arithmetic / table lookups).
counter-app: library-not-linked-against-libc [opt/counter-app/_internal/python3*/lib-dynload/*]
"""


def build_deb(bundle: Path, out_dir: Path, *, version: str | None = None, arch: str | None = None,
              compression: str = "xz", level: int | None = None, maintainer: str = "") -> Path:
    bundle = bundle.resolve()
    if not (bundle / PACKAGE).is_file():
        raise PackagingError(f"{bundle} is not a counter-app bundle (run `make dist` first)")
    version = version or project_version()
    arch = arch or debian_arch()
    maintainer = maintainer or DEFAULT_MAINTAINER
    depends, unknown = system_depends(bundle)
    if unknown:
        raise PackagingError("no Debian package known for: " + ", ".join(unknown)
                             + " (add them to FALLBACK_PACKAGES or install them on the build machine)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="counter-app-deb-") as tmp:
        staging = Path(tmp) / "root"
        shutil.copytree(bundle, staging / INSTALL_DIR, symlinks=True, copy_function=_link_or_copy)
        (staging / "usr/bin").mkdir(parents=True)
        shutil.copyfile(HERE / "counter-app.sh", staging / "usr/bin/counter-app")
        apps = staging / "usr/share/applications"
        apps.mkdir(parents=True)
        shutil.copyfile(HERE / "counter-app.desktop", apps / "counter-app.desktop")
        icons = ROOT / "packaging" / "icons"
        for size_dir, name in (("256x256", "counter-app.png"), ("scalable", "counter-app.svg")):
            dest = staging / "usr/share/icons/hicolor" / size_dir / "apps"
            dest.mkdir(parents=True)
            shutil.copyfile(icons / name, dest / name)
        doc = staging / "usr/share/doc" / PACKAGE
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(_copyright(), encoding="utf-8")
        (doc / "changelog.gz").write_bytes(_changelog(version, maintainer))
        overrides = staging / "usr/share/lintian/overrides"
        overrides.mkdir(parents=True)
        (overrides / PACKAGE).write_text(LINTIAN_OVERRIDES, encoding="utf-8")
        _clear_foreign_runpaths(staging)
        _strip(staging)
        _normalise_modes(staging)
        (staging / "usr/bin/counter-app").chmod(0o755)

        debian = staging / "DEBIAN"
        debian.mkdir()
        control = (f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: {maintainer}\n"
                   f"Installed-Size: {_du_kib(staging)}\nDepends: {', '.join(depends)}\n"
                   f"Section: misc\nPriority: optional\nHomepage: https://www.hnzwfw.gov.cn/\n"
                   f"Description: {DESCRIPTION}\n")
        (debian / "control").write_text(control, encoding="utf-8")
        (debian / "md5sums").write_text(_md5sums(staging), encoding="utf-8")
        for script in ("postinst", "postrm"):
            shutil.copyfile(HERE / script, debian / script)
            (debian / script).chmod(0o755)
        debian.chmod(0o755)
        target = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
        cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compression}", *([f"-z{level}"] if level is not None else []),
               "--build", str(staging), str(target)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise PackagingError(f"dpkg-deb failed: {proc.stderr.strip()}")
    return target


def _copyright() -> str:
    """Machine-readable copyright: ours, the bundled wheels (each licence in its dist-info beside
    it), and the two fonts. Licences Debian ships (Apache-2.0, GPL-2) are referred to, not copied."""
    fonts = ROOT / "resources" / "fonts"
    font_dir = f"{INSTALL_DIR}/_internal/resources/fonts"
    parts = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
             "Upstream-Name: counter-app\n\n"
             "Files: *\nCopyright: counter-app maintainers\nLicense: Apache-2.0\n"
             " On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.\n\n"
             f"Files: {INSTALL_DIR}/_internal/*\nCopyright: the authors of each bundled component\n"
             "License: various\n The bundled Python, Qt (PySide6, LGPL-3) and the other libraries keep their\n"
             f" licences beside them: /{INSTALL_DIR}/_internal/*.dist-info/ and the licence files in each folder.\n"]
    wqy = (fonts / "LICENSE-wqy-zenhei.txt").read_text(encoding="utf-8", errors="replace")
    wqy = wqy.split("GNU GENERAL PUBLIC LICENSE", 1)[0]  # the statement, not the GPL's full text again
    parts.append(f"\nFiles: {font_dir}/wqy-zenhei.ttc\nCopyright: WenQuanYi Project contributors\n"
                 "License: GPL-2 with Font embedding exception\n" + _indent(wqy)
                 + "\n .\n On Debian systems the GPL-2 is in /usr/share/common-licenses/GPL-2.\n")
    arphic = (fonts / "LICENSE-arphic-uming.txt").read_text(encoding="utf-8", errors="replace")
    arphic = arphic.split("====", 1)[0]
    parts.append(f"\nFiles: {font_dir}/CounterAppRareHan-ExtB.ttf\nCopyright: 1999 Arphic Technology Co., Ltd.\n"
                 "License: Arphic-1999\n" + _indent(arphic + "\n" + (fonts / "ARPHICPL.txt").read_text(
                     encoding="utf-8", errors="replace")) + "\n")
    return "".join(parts)


def _indent(text: str) -> str:
    return "\n".join(" " + (line if line.strip() else ".") for line in text.strip("\n").splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the counter-app .deb from the PyInstaller bundle")
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / PACKAGE)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--version")
    parser.add_argument("--arch")
    parser.add_argument("--compression", default="xz", choices=["xz", "gzip", "zstd", "none"])
    parser.add_argument("--level", type=int, help="compression level (dpkg-deb -z)")
    parser.add_argument("--maintainer", default=os.environ.get("DEBFULLNAME_EMAIL", DEFAULT_MAINTAINER))
    args = parser.parse_args(argv)
    try:
        path = build_deb(args.bundle, args.out, version=args.version, arch=args.arch,
                         compression=args.compression, level=args.level, maintainer=args.maintainer)
    except PackagingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
