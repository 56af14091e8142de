"""Demo data and the demo environment behind ``make run``.

``seed`` creates realistic synthetic cases through the same CaseService path the acceptance
workflow uses (drafts, or finalized + queued with a synthetic photo, signature and scans).
``prepare_demo_home`` sets up a data directory for demo mode: settings, demo operators and
a running reference platform on loopback.
"""
from __future__ import annotations

import datetime as _dt
import io
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counter_app.application import Application
from counter_app.cases import Actor, CaseError
from counter_app.samples import make_application

from app.demo import DEMO_PASSWORD  # noqa: F401 - the seed gives the demo accounts this password

DEMO_OPERATORS = (("clerk01", "李晓燕", "clerk"), ("clerk02", "王建华", "clerk"),
                  ("supervisor01", "张卫国", "supervisor"), ("it01", "赵志强", "it_admin"))
DEMO_TOKEN = "demo-window-token"
DEMO_SUPERVISOR_TOKEN = "demo-supervisor-token"  # supervisor01 approves corrections at the demo center


def synthetic_photo(rng: random.Random) -> bytes:
    """A 358×441 white-background head-and-shoulders drawing (JPEG, 350 dpi)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (358, 441), "white")
    d = ImageDraw.Draw(img)
    skin = (rng.randint(200, 235), rng.randint(160, 195), rng.randint(130, 165))
    coat = rng.choice([(30, 60, 40), (20, 30, 70), (40, 40, 40)])
    d.ellipse((40, 330, 318, 560), fill=coat)
    d.rectangle((150, 280, 208, 345), fill=skin)
    d.ellipse((108, 60, 250, 300), fill=skin)
    d.ellipse((105, 40, 253, 150), fill=(25, 20, 20))
    for x in (145, 200):
        d.ellipse((x - 8, 170, x + 8, 182), fill=(30, 20, 20))
    d.arc((150, 225, 208, 255), 20, 160, fill=(150, 60, 60), width=3)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, dpi=(350, 350))
    return out.getvalue()


def synthetic_signature(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    x = 40
    for _ in range(rng.randint(2, 3)):
        pts = [(x + rng.randint(0, 20), rng.randint(40, 160)) for _ in range(rng.randint(6, 12))]
        pts.sort()
        d.line(pts, fill=(10, 10, 30, 255), width=5, joint="curve")
        x += rng.randint(140, 180)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def synthetic_scan(rng: random.Random, title: str, kb: int = 50) -> bytes:
    """A grey page with ruled 'text' lines, sized roughly ``kb`` kilobytes as JPEG."""
    from PIL import Image, ImageDraw

    w, h = 1240, 1754
    img = Image.new("L", (w, h), 245)
    d = ImageDraw.Draw(img)
    d.rectangle((80, 80, w - 80, 200), outline=60, width=4)
    y = 260
    while y < h - 120:
        length = rng.randint(500, w - 200)
        d.line((100, y, 100 + length, y), fill=rng.randint(40, 90), width=rng.randint(6, 12))
        y += rng.randint(40, 60)
    for _ in range(kb * 3):  # speckle so the JPEG is not trivially small
        px, py = rng.randrange(w), rng.randrange(h)
        d.point((px, py), fill=rng.randint(0, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def complete_application(window: Any, app: Application, rng: random.Random, *, scans: bool = True) -> Application:
    """Everything a clerk would have done: originals seen, scans, photo, signature."""
    from counter_app.rules import required_materials

    for req in required_materials(app):
        if req.number in (1, 12):
            continue
        rec = app.material(req.number)
        rec.original_seen = True
        if scans and req.number in (3, 4, 5):
            rec.attachments = [window.cases.put_attachment(synthetic_scan(rng, req.title), "image/jpeg")]
    if 8 in app.items:
        app.photo = window.cases.put_attachment(synthetic_photo(rng), "image/jpeg")
    app.signature = window.cases.put_attachment(synthetic_signature(rng), "image/png")
    if 11 in app.items:
        app.veteran_affairs.reserve_letter = "本中心已开具并当面交申请人"
    if 4 in app.items:  # the 落户介绍信, stamped and scanned back
        app.settlement_letter_scan = window.cases.put_attachment(synthetic_scan(rng, "落户介绍信", 20), "image/jpeg")
    return app


def seed(window: Any, count: int, *, finalized: bool = False, seed: int = 2026,
         operator: str = "clerk01") -> list[str]:
    rng = random.Random(seed)
    actor = Actor(operator)
    created: list[str] = []
    today = _dt.date.today()
    attempts = 0
    while len(created) < count and attempts < count * 3:
        attempts += 1
        app = make_application(rng, today=today)
        try:
            rec = window.cases.create_draft(app, actor)
        except CaseError:  # same synthetic ID twice: try another applicant
            continue
        if finalized:
            app = complete_application(window, rec.application, rng)
            form_pdf = _form_pdf(window, rec.id, app)
            window.cases.finalize(rec.id, app, actor, form_pdf=form_pdf)
            window.cases.confirm_shown(rec.id)
        created.append(rec.case_no)
    return created


def _form_pdf(window: Any, case_id: str, app: Application) -> bytes:
    """The real form, as the print step renders it."""
    from printing.form import render_application_form

    case = window.cases.export(case_id)
    from counter_app.application import application_to_dict

    case["application"] = application_to_dict(app)
    photo = window.files.get(app.photo) if app.photo else None
    sig = window.files.get(app.signature) if app.signature else None
    return render_application_form(case, photo_jpeg=photo, signature_png=sig).pdf


# ------------------------------------------------------------------ demo signing key

def ensure_demo_signing(window: Any) -> bool:
    """A test CA and the center's certificate (PKCS#12, password = the demo password) in
    ``<home>/pki``, configured as the window's signing key — only where no key is configured,
    so a real center's key is never replaced. True when this call set it up."""
    settings = window.settings
    if settings.signing_key_kind:
        return False
    from app.pki import LocalCA

    pki = window.home / "pki"
    pki.mkdir(mode=0o700, exist_ok=True)
    ca = LocalCA.create()
    root, p12 = pki / "test-root.pem", pki / "center-demo.p12"
    for path, data in ((root, ca.root_pem), (p12, ca.pkcs12_for(settings.center_name, DEMO_PASSWORD))):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    settings.set("signing_key_kind", "pkcs12")
    settings.set("signing_pkcs12_path", str(p12))
    settings.set("signing_trust_root", str(root))
    settings.save()
    return True


def sign_queued(window: Any) -> str:
    """Sign what waits with the demo key (the demo password unlocks it); the status sentence."""
    from app.signing.service import SigningService

    service = SigningService(window)
    outcome = service.unlock(DEMO_PASSWORD)
    if not outcome.ok:
        return outcome.message
    status = service.drain_now()
    return status.problem or f"已完成电子签章{status.signed_now}份。"


# ------------------------------------------------------------------ demo environment

@dataclass
class PlatformProcess:
    url: str
    process: subprocess.Popen | None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class DemoHome:
    home: Path
    port: int
    center_code: str = "410702"
    window_no: str = "01"
    seal_public_key: str | None = None

    def platform_credentials(self) -> list[str]:
        """The demo window's credential, bound to its center and window, with its seal key
        enrolled, and the demo supervisor's."""
        binding = f"{self.center_code}-{self.window_no}"
        args = ["--token", f"{DEMO_TOKEN}@{binding}",
                "--token", f"{DEMO_SUPERVISOR_TOKEN}@{self.center_code}-supervisor-supervisor01"]
        if self.seal_public_key:
            args += ["--seal-key", f"{binding}={self.seal_public_key}"]
        return args

    def start_platform(self) -> PlatformProcess:
        url = f"http://127.0.0.1:{self.port}"
        os.environ["COUNTER_APP_PLATFORM_URL"] = url
        os.environ["COUNTER_APP_PLATFORM_TOKEN"] = DEMO_TOKEN
        if _port_open(self.port):  # a platform from an earlier run is still serving
            return PlatformProcess(url, None)
        log = open(self.home / "platform.log", "ab")
        from app.diagnostics import self_command  # works from a venv and from the frozen bundle

        proc = subprocess.Popen(
            [*self_command(), "platform", "serve", "--port", str(self.port),
             "--data", str(self.home / "platform"), *self.platform_credentials(), "--clock-seconds", "20"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CaseError("参考平台未能启动，请查看 platform.log。")
            if _port_open(self.port):
                return PlatformProcess(url, proc)
            time.sleep(0.1)  # waiting for another process's socket: nothing to wait on but time
        proc.kill()
        raise CaseError("参考平台启动超时，请查看 platform.log。")


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to end the demo platform when the application dies,
    however it dies (a killed terminal must not leave a server holding the port)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def prepare_demo_home(home: Path, *, port: int = 8800) -> DemoHome:
    from counter_app.config import load_settings

    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")
    settings = load_settings(home / "config.toml")
    settings.set("demo_mode", True)
    settings.set("platform_url", f"http://127.0.0.1:{port}")
    settings.save()
    from counter_app.services import open_window

    w = open_window(home)
    try:
        _ensure_demo_operators(w)
        ensure_demo_signing(w)
        if w.cases.count() == 0:
            seed(w, 6, finalized=True, seed=7)
            seed(w, 2, finalized=False, seed=8)
            sign_queued(w)
        sealer = w.cases.sealer
        info = DemoHome(home, port, w.settings.center_code, w.settings.window_no,
                        sealer.public_key_b64 if sealer is not None else None)
    finally:
        w.close()
    return info


def _ensure_demo_operators(window: Any) -> None:
    """Demo accounts (documented in the README). The IT administrator is created first by the
    installer identity, as on a fresh install; it then creates the others."""
    from counter_app.security.access import directory
    from counter_app.security.operators import INSTALLER

    accounts = directory(window)
    admin = next(((u, n, r) for u, n, r in DEMO_OPERATORS if r == "it_admin"))
    if accounts.get(admin[0]) is None:
        accounts.add(INSTALLER, admin[0], admin[2], admin[1], DEMO_PASSWORD)
    acting = Actor(admin[0], "it_admin")
    for username, name, role in DEMO_OPERATORS:
        if accounts.get(username) is None:
            accounts.add(acting, username, role, name, DEMO_PASSWORD)
