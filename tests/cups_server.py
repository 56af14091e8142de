"""A private CUPS scheduler for tests: the Debian ``cupsd`` with its own configuration folder,
listening on a socket of its own and on a loopback port, with ``cups-pdf`` queues whose output
lands in a folder of the test's. Nothing of the machine's own CUPS is used or changed, except one
``/etc/cups/cups-pdf-<instance>.conf`` (cups-pdf reads its configuration only from there), which
is removed again at :meth:`CupsServer.stop`.

cups-pdf runs as root (its backend is mode 0700, as Debian ships it), so these tests need root —
as the suite has in CI; a non-root run fails with a message saying so.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
START_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CupsServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="counter-cups-"))
        self.root.chmod(0o755)  # filters run as lp and must reach the spool
        self.port = _free_port()
        self.socket = self.root / "cups.sock"
        self.out = self.root / "pdf-out"
        self.instance = f"counterapptest{os.getpid()}x{self.port}"
        self.pdf_conf = Path(f"/etc/cups/cups-pdf-{self.instance}.conf")
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": str(self.socket), "LC_ALL": "C"}

    def start(self) -> "CupsServer":
        missing = [p for p in ("/usr/sbin/cupsd", "/usr/sbin/lpadmin", "/usr/lib/cups/backend/cups-pdf", str(PPD))
                   if not os.path.exists(p)]
        assert not missing, f"CUPS test needs the Debian packages of tests/system-packages.d/printing.txt: {missing}"
        assert os.geteuid() == 0, "the CUPS test runs cupsd with the cups-pdf backend, which needs root"
        for sub in ("spool", "cache", "state", "log", "tmp"):
            (self.root / sub).mkdir()
        (self.root / "tmp").chmod(0o1777)
        self.out.mkdir()
        self.out.chmod(0o777)
        (self.root / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{self.port}\nListen {self.socket}\nLogLevel info\nWebInterface No\nBrowsing Off\n"
            "DefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")
        r = self.root
        (r / "cups-files.conf").write_text(
            f"ServerRoot {r}\nRequestRoot {r}/spool\nCacheDir {r}/cache\nStateDir {r}/state\nTempDir {r}/tmp\n"
            f"ErrorLog {r}/log/error_log\nAccessLog {r}/log/access_log\nPageLog {r}/log/page_log\n"
            f"Printcap {r}/printcap\nUser lp\nGroup lp\nSystemGroup root\nSandboxing Relaxed\n")
        self.pdf_conf.write_text(f"Out {self.out}\nAnonDirName {self.out}\nLabel 2\n")
        self.process = subprocess.Popen(["/usr/sbin/cupsd", "-f", "-c", str(r / "cupsd.conf"),
                                         "-s", str(r / "cups-files.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.error_log()
                self.stop()
                raise AssertionError(f"cupsd did not start: {log[-2000:]}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(self.socket))
                return True
            except OSError:
                return False

    def lpadmin(self, *args: str) -> None:
        subprocess.run(["lpadmin", *args], env=self.env(), check=True, capture_output=True, timeout=30)

    def add_pdf_queue(self, name: str, *, default: bool = False) -> None:
        self.lpadmin("-p", name, "-E", "-v", f"cups-pdf:/{self.instance}", "-P", str(PPD))
        if default:
            self.lpadmin("-d", name)

    def disable(self, name: str, reason: str) -> None:
        subprocess.run(["cupsdisable", "-r", reason, name], env=self.env(), check=True, capture_output=True, timeout=30)

    def output_of(self, job_id: str) -> Path | None:
        found = sorted(self.out.glob(f"job_{job_id}-*.pdf")) + sorted(self.out.glob(f"*-job_{job_id}.pdf"))
        return found[0] if found else None

    def error_log(self) -> str:
        log = self.root / "log" / "error_log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.pdf_conf.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)
