"""Build the CPython the Linux bundle is made from, so that it runs on glibc 2.28 (统信 UOS 20).

A bundle inherits the glibc needs of the interpreter that builds it: PyInstaller copies its
``libpython3.11.so`` and ``lib-dynload/*.so``. Debian 12's CPython needs GLIBC_2.35; no registry we
can reach offers a CPython built on an old glibc (the portable builds on npm and PyPI only carry
installers that download from elsewhere). So we build one:

* compiler: ``zig cc -target x86_64-linux-gnu.2.28`` from the ``ziglang`` wheel (PyPI). Zig links
  against stubs of exactly glibc 2.28's symbols, so configure finds only functions 2.28 has and
  the result cannot need a newer symbol version — on any build machine;
* sources: the upstream tarballs of Debian's source packages ``python3.11``, ``openssl``,
  ``sqlite3`` and ``xz-utils`` (``apt-get source`` with a private apt configuration: the build
  machine's own apt state is not touched);
* OpenSSL, SQLite and liblzma are linked statically into their modules (their Debian 12 shared
  libraries need GLIBC_2.33–2.34); zlib, bzip2, libffi and libuuid need ≤ 2.28 and come from the
  system as usual.

Usage (``make dist`` runs it; the result is cached by this file's digest)::

    .venv/bin/python packaging/linux/portable_python.py            # prints the interpreter's path

Takes 10–25 minutes of 2 cores the first time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GLIBC = "2.28"
TARGET = f"x86_64-linux-gnu.{GLIBC}"
PYTHON_VERSION = "3.11"
SOURCES = {  # Debian source package -> upstream tarball name prefix
    "python3.11": "python3.11_",
    "openssl": "openssl_",
    "sqlite3": "sqlite3_",
    "xz-utils": "xz-utils_",
}
# Headers and link names of the system libraries the modules may use (all need glibc <= 2.28).
SYSTEM_HEADERS = {"zlib.h": "/usr/include/zlib.h", "zconf.h": "/usr/include/zconf.h",
                  "bzlib.h": "/usr/include/bzlib.h", "uuid/uuid.h": "/usr/include/uuid/uuid.h"}
SYSTEM_LIBS = ("libz", "libbz2", "libffi", "libuuid")


class BuildError(Exception):
    pass


def cache_dir() -> Path:
    base = os.environ.get("COUNTER_APP_PORTABLE_PYTHON_CACHE") or os.path.join(tempfile.gettempdir(),
                                                                               "counter-app-portable-python")
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return Path(base) / f"cpython{PYTHON_VERSION}-glibc{GLIBC}-{digest}"


def interpreter(prefix: Path | None = None) -> Path:
    return (prefix or cache_dir() / "install") / "bin" / f"python{PYTHON_VERSION}"


def run(cmd: list[str], cwd: Path, log: Path, env: dict | None = None) -> None:
    with open(log, "ab") as out:
        out.write(("\n$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise BuildError(f"{' '.join(cmd[:3])} failed in {cwd} (log {log}):\n{tail}")


def toolchain(root: Path) -> dict[str, str]:
    """cc/c++/ar/ranlib wrappers around the ziglang wheel's zig, targeting glibc 2.28."""
    import ziglang  # the [dist] extra installs it

    zig = Path(ziglang.__file__).parent / "zig"
    bin_dir = root / "toolchain"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, args in (("cc", f"cc -target {TARGET}"), ("c++", f"c++ -target {TARGET}"),
                       ("ar", "ar"), ("ranlib", "ranlib")):
        wrapper = bin_dir / f"zig-{name}"
        wrapper.write_text(f'#!/bin/sh\nexec "{zig}" {args} "$@"\n')
        wrapper.chmod(0o755)
    return {"CC": str(bin_dir / "zig-cc"), "CXX": str(bin_dir / "zig-c++"), "AR": str(bin_dir / "zig-ar"),
            "RANLIB": str(bin_dir / "zig-ranlib")}


def fetch_sources(root: Path) -> dict[str, Path]:
    """The upstream tarballs of the Debian source packages, via apt-get with a private state."""
    src, state = root / "src", root / "apt"
    src.mkdir(parents=True, exist_ok=True)
    for sub in ("lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    suite = _debian_suite()
    (state / "sources.list").write_text(f"deb-src http://deb.debian.org/debian {suite} main\n")
    (state / "apt.conf").write_text(
        f'Dir::Etc::SourceList "{state}/sources.list";\nDir::Etc::SourceParts "/nonexistent";\n'
        f'Dir::State::Lists "{state}/lists";\nDir::Cache "{state}/cache";\nDebug::NoLocking "true";\n')
    env = {**os.environ, "APT_CONFIG": str(state / "apt.conf")}
    log = root / "fetch.log"
    if not any((state / "lists").glob("*Sources*")):
        run(["apt-get", "update"], src, log, env)
    found = {}
    for package, prefix in SOURCES.items():
        tarballs = sorted(p for p in src.glob(f"{prefix}*.orig.tar.*") if not p.name.endswith(".asc"))
        if not tarballs:
            run(["apt-get", "source", "--download-only", package], src, log, env)
            tarballs = sorted(p for p in src.glob(f"{prefix}*.orig.tar.*") if not p.name.endswith(".asc"))
        if not tarballs:
            raise BuildError(f"no upstream tarball for the Debian source package {package}")
        found[package] = tarballs[0]
    return found


def _debian_suite() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip('"') or "bookworm"
    except OSError:
        pass
    return "bookworm"


def unpack(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as tf:
        top = tf.getnames()[0].split("/")[0]
        shutil.rmtree(into / top, ignore_errors=True)
        tf.extractall(into, filter="tar")
    return into / top


def build(root: Path | None = None) -> Path:
    root = root or cache_dir()
    prefix = root / "install"
    python = interpreter(prefix)
    if python.exists() and not prefix.is_symlink():
        return python
    # What stands at the prefix without a working interpreter is a failed or foreign build: a
    # symlink into a tree that was since deleted, or a half-finished `make install`. Building over it
    # would fail (or mix two builds), so it goes; the cache owns its prefix.
    if prefix.is_symlink() or prefix.is_file():
        prefix.unlink()
    elif prefix.exists():
        shutil.rmtree(prefix)
    root.mkdir(parents=True, exist_ok=True)
    log = root / "build.log"
    tools = toolchain(root)
    env = {**os.environ, **tools, "CFLAGS": "-O2 -fPIC"}
    sources = fetch_sources(root)
    work, deps = root / "work", root / "deps"
    work.mkdir(exist_ok=True)
    jobs = str(os.cpu_count() or 2)

    xz = unpack(sources["xz-utils"], work)
    run(["./configure", f"--prefix={deps}", "--disable-shared", "--enable-static", "--disable-xz", "--disable-xzdec",
         "--disable-lzmadec", "--disable-lzmainfo", "--disable-scripts", "--disable-doc", "--disable-nls"], xz, log, env)
    run(["make", f"-j{jobs}"], xz, log, env)
    run(["make", "install"], xz, log, env)

    sqlite = unpack(sources["sqlite3"], work)
    sqlite_env = {**env, "BCC": "cc", "CFLAGS": "-O2 -fPIC -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS"}
    run(["./configure", f"--prefix={deps}", "--disable-shared", "--enable-static", "--disable-tcl",
         "--disable-readline", "--disable-editline"], sqlite, log, sqlite_env)
    run(["make", f"-j{jobs}", "libsqlite3.la"], sqlite, log, sqlite_env)
    (deps / "lib").mkdir(parents=True, exist_ok=True)
    (deps / "include").mkdir(parents=True, exist_ok=True)
    shutil.copy2(sqlite / ".libs" / "libsqlite3.a", deps / "lib")
    for header in ("sqlite3.h", "sqlite3ext.h"):
        shutil.copy2(sqlite / header, deps / "include")

    openssl = unpack(sources["openssl"], work)
    run(["./Configure", "linux-x86_64", "no-shared", "no-tests", "no-engine", "no-module", f"--prefix={deps}",
         "--libdir=lib"], openssl, log, env)
    run(["make", f"-j{jobs}", "build_libs"], openssl, log, env)
    run(["make", "install_dev"], openssl, log, env)

    # System headers for zlib/bzip2/libffi/libuuid (zig searches only its own glibc headers).
    sysinc, syslib = root / "sys" / "include", root / "sys" / "lib"
    (sysinc / "uuid").mkdir(parents=True, exist_ok=True)
    syslib.mkdir(parents=True, exist_ok=True)
    multiarch = "/usr/include/x86_64-linux-gnu"
    for name, path in {**SYSTEM_HEADERS, "ffi.h": f"{multiarch}/ffi.h", "ffitarget.h": f"{multiarch}/ffitarget.h"}.items():
        if not os.path.exists(path):
            raise BuildError(f"missing {path}: apt-get install zlib1g-dev libbz2-dev libffi-dev uuid-dev")
        (sysinc / name).unlink(missing_ok=True)
        (sysinc / name).symlink_to(path)
    for lib in SYSTEM_LIBS:
        (syslib / f"{lib}.so").unlink(missing_ok=True)
        (syslib / f"{lib}.so").symlink_to(f"/usr/lib/x86_64-linux-gnu/{lib}.so")

    cpython = unpack(sources["python3.11"], work)
    # Zig refuses __DATE__/__TIME__ (reproducible builds) and the -h spelling of -soname. The date
    # keeps the format platform.python_build() and pip parse out of sys.version.
    info = cpython / "Modules" / "getbuildinfo.c"
    info.write_text(info.read_text().replace("#define DATE __DATE__", '#define DATE "Jan  1 2026"')
                    .replace("#define TIME __TIME__", '#define TIME "00:00:00"'))
    py_env = {**env, "CPPFLAGS": f"-I{deps}/include -I{sysinc}",
              "LDFLAGS": f"-L{deps}/lib -L{syslib} -Wl,-rpath,\\$$ORIGIN/../lib",
              "LIBLZMA_CFLAGS": f"-I{deps}/include", "LIBLZMA_LIBS": f"{deps}/lib/liblzma.a",
              "LIBSQLITE3_CFLAGS": f"-I{deps}/include", "LIBSQLITE3_LIBS": f"{deps}/lib/libsqlite3.a -lm"}
    run(["./configure", f"--prefix={prefix}", "--enable-shared", f"--with-openssl={deps}", "--with-ensurepip=install",
         "--disable-test-modules"], cpython, log, py_env)
    # setup.py would add the build machine's /usr/include/<multiarch>: its glibc headers clash with zig's.
    setup = cpython / "setup.py"
    setup.write_text(setup.read_text().replace("        self.add_multiarch_paths()\n", "        pass\n"))
    makefile = cpython / "Makefile"
    text = makefile.read_text()
    text = text.replace("-Wl,-h$(INSTSONAME)", "-Wl,-soname,$(INSTSONAME)").replace("-Wl,-h$@", "-Wl,-soname,$@")
    # libpython3.so (the stable-ABI forwarder) is not needed by a bundle, and zig cannot link it.
    text = "\n".join("PY3LIBRARY=" if line.startswith("PY3LIBRARY=") else line for line in text.splitlines()) + "\n"
    makefile.write_text(text)
    run(["make", f"-j{jobs}"], cpython, log, env)
    run(["make", "install"], cpython, log, env)
    if not python.exists():
        raise BuildError(f"the build finished without {python}")
    check = subprocess.run([str(python), "-c", "import ssl, sqlite3, lzma, ctypes, zlib, bz2, uuid; print(ssl.OPENSSL_VERSION)"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise BuildError(f"the portable interpreter lacks a module: {check.stderr[-2000:]}")
    shutil.rmtree(work, ignore_errors=True)
    return python


if __name__ == "__main__":
    try:
        print(build())
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
