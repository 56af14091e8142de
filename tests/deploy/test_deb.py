"""The Debian package: built from the bundle with dpkg-deb, installed and purged with the real dpkg
into a scratch root (``--root`` + ``--force-script-chrootless``, so the maintainer scripts run and act
on the scratch root's /etc/passwd and /etc/group through ``DPKG_ROOT``, never on this machine's)."""
from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from counter_app.version import app_version
from tests.deploy.conftest import load_packaging_module

pytestmark = pytest.mark.timeout(1800)  # may have to build the bundle first


@pytest.fixture(scope="module")
def deb(bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    # gzip -1: xz over ~400 MB is for releases (`make deb`), not for every test run; lintian refuses
    # an uncompressed package.
    path = load_packaging_module("build_deb").build_deb(bundle.folder, out, compression="gzip", level=1)
    yield path
    shutil.rmtree(out, ignore_errors=True)  # ~400 MB: do not leave it in pytest's kept temp dirs


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_package_declares_itself_and_its_system_libraries(deb):
    fields = dict(line.split(": ", 1) for line in dpkg_deb("--field", str(deb)).splitlines() if ": " in line)
    assert fields["Package"] == "counter-app" and fields["Version"] == app_version()
    depends = [d.strip() for d in fields["Depends"].split(",")]
    # The oldest glibc the bundle needs, and no newer than UOS 20's 2.28 (test_glibc.py reads every file).
    libc = re.fullmatch(r"libc6 \(>= 2\.(\d+)\)", depends[0])
    assert libc and 17 <= int(libc.group(1)) <= 28, depends[0]
    # The Qt xcb platform plugin's X libraries come from the system, as does CUPS for printing.
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
                    "libxcb-randr0", "libxcb-shape0", "libxcb-xkb1", "libxkbcommon-x11-0", "libfontconfig1",
                    "libcups2", "passwd"):
        assert package in depends, package


def test_package_contents_are_root_owned_and_complete(deb):
    listing = dpkg_deb("--contents", str(deb)).splitlines()
    entries = {line.split()[-1].lstrip("."): line.split()[:2] for line in listing}
    for path in ("/opt/counter-app/counter-app", "/usr/bin/counter-app", "/usr/share/applications/counter-app.desktop",
                 "/usr/share/icons/hicolor/256x256/apps/counter-app.png",
                 "/usr/share/icons/hicolor/scalable/apps/counter-app.svg", "/usr/share/doc/counter-app/copyright"):
        assert path in entries, path
    assert entries["/opt/counter-app/counter-app"][0] == "-rwxr-xr-x"
    assert entries["/usr/bin/counter-app"][0] == "-rwxr-xr-x"
    assert {owner for _, owner in entries.values()} == {"root/root"}


def _scratch_root(root: Path) -> Path:
    """A minimal system: three accounts (one already in dialout, one without a login shell) and an empty dpkg db."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                     "alice:x:1000:1000::/home/alice:/bin/bash\n"
                                     "svc:x:1001:1001::/nonexistent:/usr/sbin/nologin\n"
                                     "carol:x:1002:1002::/home/carol:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\ndialout:x:20:carol\nalice:x:1000:\nsvc:x:1001:\ncarol:x:1002:\n")
    (root / "etc/gshadow").write_text("root:*::\ndialout:*::carol\nalice:!::\nsvc:!::\ncarol:!::\n")
    (root / "etc/login.defs").write_text("UID_MIN 1000\nUID_MAX 60000\n")
    (root / "etc/counter-app").mkdir()
    (root / "etc/counter-app/operators").write_text("# domain accounts\nsvc\n")
    admin = root / "var/lib/dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True)
    (admin / "status").touch()
    (admin / "available").touch()
    return root


def _dpkg(root: Path, *args: str) -> subprocess.CompletedProcess:
    # --force-depends: the scratch root has no libc6 etc. installed; the Depends line is checked above.
    prefix = [] if os.geteuid() == 0 else ["unshare", "--map-root-user"]
    return subprocess.run([*prefix, "dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                           "--force-not-root", *args], capture_output=True, text=True)


def dialout_members(root: Path) -> list[str]:
    for line in (root / "etc/group").read_text().splitlines():
        if line.startswith("dialout:"):
            return [m for m in line.split(":")[3].split(",") if m]
    raise AssertionError("no dialout group")


def test_package_installs_grants_the_reader_and_purges_cleanly(deb, tmp_path):
    root = _scratch_root(tmp_path / "root")
    installed = _dpkg(root, "-i", str(deb))
    assert installed.returncode == 0, installed.stderr
    assert "install ok installed" in _dpkg(root, "-s", "counter-app").stdout

    # The program runs from where the package put it.
    exe = root / "opt/counter-app/counter-app"
    env = {**os.environ, "COUNTER_APP_HOME": str(tmp_path / "home"), "COUNTER_APP_KEYSTORE": "file"}
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith(f"counter-app {app_version()}")
    assert "exec /opt/counter-app/counter-app" in (root / "usr/bin/counter-app").read_text()
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(root / "usr/share/applications/counter-app.desktop", encoding="utf-8")
    entry = desktop["Desktop Entry"]
    assert entry["Exec"] == "/usr/bin/counter-app" and entry["Icon"] == "counter-app"
    assert entry["Name[zh_CN]"].startswith("退役军人服务")

    # Operators may use the serial reader: alice (login shell) and svc (listed by IT) were added;
    # carol already was a member and is not recorded as ours.
    assert sorted(dialout_members(root)) == ["alice", "carol", "svc"]
    assert (root / "var/lib/counter-app/dialout-added").read_text().split() == ["alice", "svc"]

    # A root run may leave byte-code beside the migrations; removal must still leave nothing behind.
    stray = root / "opt/counter-app/_internal/counter_app/store/migrations/versions/__pycache__"
    stray.mkdir(exist_ok=True)
    (stray / "0001_initial_schema.cpython-311.pyc").write_bytes(b"\0")

    purged = _dpkg(root, "--purge", "counter-app")
    assert purged.returncode == 0, purged.stderr
    assert "not installed" in _dpkg(root, "-s", "counter-app").stderr
    assert not (root / "opt/counter-app").exists()
    assert not (root / "usr/bin/counter-app").exists()
    assert not (root / "usr/share/applications/counter-app.desktop").exists()
    assert not (root / "var/lib/counter-app").exists()
    assert dialout_members(root) == ["carol"]  # exactly what we added was taken back


def test_lintian_reports_no_errors(deb):
    """Overrides exist only for what a self-contained bundle in /opt is; each carries its reason
    (packaging/debian/build_deb.py, LINTIAN_OVERRIDES)."""
    proc = subprocess.run(["lintian", "--no-cfg", "--fail-on", "error", str(deb)], capture_output=True, text=True,
                          timeout=1500)
    errors = [line for line in proc.stdout.splitlines() if line.startswith("E:")]
    assert not errors and proc.returncode == 0, "\n".join(errors[:40]) or proc.stderr[-2000:]


def test_bundle_in_the_package_is_stripped_and_keeps_no_build_machine_paths(deb, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    build_deb = load_packaging_module("build_deb")
    internal = tmp_path / "opt/counter-app/_internal"
    libpython = next(internal.glob("libpython3*.so*"))
    assert "not stripped" not in subprocess.run(["file", "-L", str(libpython)], capture_output=True, text=True).stdout
    for path in internal.rglob("*.so*"):
        if path.is_file() and not path.is_symlink():
            assert all(text.startswith("$ORIGIN") for _, text in build_deb.runpath_spans(path)), path
            assert not os.access(path, os.X_OK) or path.stat().st_mode & 0o111 == 0, path
