"""Security figures: the cost of encryption at rest on finalize-and-commit (2 MB of attachments,
against the same commit through a no-op vault), blind-index lookup among 100,000 cases, login
(scrypt), audit-chain verification and archive verification.

Run standalone: ``python bench/bench_security.py`` (or through ``make bench``).
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")

from counter_app.security.vault import MAGIC, Vault  # noqa: E402

ATTACHMENT_BYTES = 2 * 1024 * 1024


class PlainVault(Vault):
    """The baseline: same interface, same blob framing, no cipher (never used outside this file)."""

    def encrypt(self, plaintext: bytes, ad: bytes) -> bytes:
        return MAGIC + b"\x00" * 17 + plaintext

    def decrypt(self, blob: bytes, ad: bytes) -> bytes:
        return blob[20:]


def _finalizable(cases, rng: random.Random):
    from counter_app.samples import make_application
    from counter_app.rules import required_materials

    app = make_application(rng)
    for req in required_materials(app):
        app.material(req.number).original_seen = True
    return app


def _finalize_with_2mb(cases, app, actor):
    """What the clerk's "submit" costs: store the scans, photo and signature, then finalize
    (encrypt the payload, seal, commit case + outbox + audit durably)."""
    from tests.security.casework import form_pdf

    sizes = [600 * 1024, 600 * 1024, 500 * 1024, 200 * 1024]  # four material scans
    photo, sig = os.urandom(120 * 1024), os.urandom(28 * 1024)
    scans = [os.urandom(n) for n in sizes]
    pdf = form_pdf(app)
    rec = cases.create_draft(app, actor)
    t = time.perf_counter()
    app.material(3).attachments = [cases.put_attachment(s, "image/jpeg") for s in scans]
    app.photo = cases.put_attachment(photo, "image/jpeg")
    app.signature = cases.put_attachment(sig, "image/png")
    if app.has_item(11):
        app.veteran_affairs.reserve_letter = "申请人已持有"
    if app.has_item(4):
        app.settlement_letter_scan = app.material(3).attachments[0]
    cases.finalize(rec.id, app, actor, form_pdf=pdf)
    return time.perf_counter() - t, sum(sizes) + len(photo) + len(sig) + len(pdf)


def bench_encryption_cost(report, root: Path, n: int = 12) -> None:
    from counter_app.cases import Actor, CaseService
    from counter_app.services import open_window
    from counter_app.store.files import FileStore

    actor = Actor("bench", "clerk")
    aes = open_window(root / "aes")
    (root / "sm4").mkdir()
    (root / "sm4" / "config.toml").write_text('crypto_algorithm = "sm4-gcm"\n', encoding="utf-8")
    sm4 = open_window(root / "sm4")
    plain_w = open_window(root / "plain")
    plain_vault = PlainVault(plain_w.keystore)
    plain = CaseService(plain_w.sessions, plain_vault, FileStore(root / "plain" / "attachments", plain_vault),
                        plain_w.calendar, center_code="410702", window_no="02", sealer=plain_w.cases.sealer)
    runs = {"plain": (plain, random.Random(5), []), "aes": (aes.cases, random.Random(5), []),
            "sm4": (sm4.cases, random.Random(5), [])}
    for i in range(n + 2):  # interleaved, so all see the same disk and CPU weather; 2 warm-up rounds
        for cases, rng, out in runs.values():
            t, _ = _finalize_with_2mb(cases, _finalizable(cases, rng), actor)
            if i >= 2:
                out.append(t)
    base = "finalize-and-commit, 2 MB attachments, no encryption"
    report(base, runs["plain"][2])
    for key, w in (("aes", aes), ("sm4", sm4)):
        report(f"finalize-and-commit, 2 MB attachments, {w.vault.algorithm}", runs[key][2], "≤ 1.5× without",
               ratio_to=base)
    for w in (aes, sm4, plain_w):
        w.close()
    # The ciphers alone, for scale.
    data = os.urandom(ATTACHMENT_BYTES)
    for w in (aes, sm4):
        samples = []
        for _ in range(10):
            t = time.perf_counter()
            w.vault.encrypt(data, b"ad")
            samples.append(time.perf_counter() - t)
        report(f"{w.vault.algorithm} encrypt of 2 MB", samples)


_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _id_number(i: int) -> str:
    """A distinct, well-formed 18-character number (GB 11643 check digit), fast enough for 100,000."""
    # (i mod 30, i mod 12, i mod 28) fixes i mod 420, so with the sequence i // 420 every i < 420,000 differs.
    body = f"410702{1970 + i % 30}{1 + i % 12:02d}{1 + i % 28:02d}{i // 420 % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, _WEIGHTS))
    return body + "10X98765432"[total % 11]


def bench_blind_index_lookup(report, root: Path, total: int = 100_000) -> None:
    from sqlalchemy import insert, select

    from counter_app.cases import canonical_json
    from counter_app.samples import make_application
    from counter_app.application import application_to_dict
    from counter_app.services import open_window
    from counter_app.store.models import CaseRow

    w = open_window(root / "lookup")
    rng = random.Random(9)
    template = application_to_dict(make_application(rng))
    now = _dt.datetime.now(_dt.timezone.utc)
    ids: list[str] = []
    t0 = time.perf_counter()
    with w.engine.begin() as c:
        batch = []
        for i in range(total):
            idn = _id_number(i)
            ids.append(idn)
            row_id = uuid.uuid4().hex
            template["applicant"]["id_number"] = idn
            payload = w.vault.encrypt(canonical_json(template), Vault.associated_data("cases", "payload_enc", row_id))
            batch.append({"id": row_id, "case_no": f"410702-01-20260101-{i % 9999 + 1:04d}-X",
                          "version": 1 + i // 9999, "state": "completed", "source": "walk_in", "center_code": "410702",
                          "window_no": "01", "operator": "bench", "items": "1",
                          "id_bidx": w.cases.id_index(idn), "payload_enc": payload, "created_at": now,
                          "updated_at": now})
            if len(batch) == 5000:
                c.execute(insert(CaseRow), batch)
                batch = []
        if batch:
            c.execute(insert(CaseRow), batch)
    print(f"   (inserted {total:,} encrypted cases in {time.perf_counter() - t0:.1f} s)")
    picks = [rng.choice(ids) for _ in range(300)]
    token = []
    for idn in picks[:100]:
        t = time.perf_counter()
        w.cases.id_index(idn)
        token.append(time.perf_counter() - t)
    report("blind index token (HMAC-SHA256 of normalised ID number)", token)
    raw = []
    with w.sessions() as s:
        for idn in picks[:100]:
            t = time.perf_counter()
            s.execute(select(CaseRow.id).where(CaseRow.id_bidx == w.cases.id_index(idn))).all()
            raw.append(time.perf_counter() - t)
    report(f"blind index query among {total:,} cases (token + indexed SELECT)", raw, "≤ 5 ms")
    full = []
    for idn in picks[100:]:
        t = time.perf_counter()
        hits = w.cases.find_by_id_number(idn)
        full.append(time.perf_counter() - t)
        assert hits, "every picked number exists"
    report(f"find_by_id_number among {total:,} cases (lookup + decrypt + mask)", full, "≤ 5 ms")
    w.close()


def bench_login_and_audit(report, root: Path) -> None:
    from counter_app import audit
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER
    from counter_app.services import open_window

    w = open_window(root / "audit")
    d = access.directory(w)
    d.add(INSTALLER, "clerk1", "clerk", "李晓燕", "Window-one-1")
    samples = []
    for _ in range(8):
        t = time.perf_counter()
        d.authenticate("clerk1", "Window-one-1")
        samples.append(time.perf_counter() - t)
    report("login (scrypt N=2^15, r=8) incl. audit entry", samples, "0.05–0.5 s (deliberately slow)")
    with w.sessions.begin() as s:
        for i in range(10_000):
            audit.append(s, "clerk1", "print", f"#{i}", {"copies": 1})
    samples = []
    for _ in range(5):
        with w.sessions() as s:
            t = time.perf_counter()
            assert audit.verify(s).ok
            samples.append(time.perf_counter() - t)
    report("audit verify, 10,000 entries", samples)
    w.close()


def bench_archive_verify(report, root: Path) -> None:
    from counter_app.cases import Actor
    from counter_app.security.archive import verify_case
    from counter_app.services import open_window
    from tests.security.casework import finalize_case

    w = open_window(root / "archive")
    rec, _, _ = finalize_case(w, 1, actor=Actor("bench", "clerk"))
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        assert verify_case(w, rec.case_no).ok
        samples.append(time.perf_counter() - t)
    report("archive verify of one case (digest, seal, 4 files)", samples)
    w.close()


def run(report) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        bench_encryption_cost(report, root)
        bench_blind_index_lookup(report, root)
        bench_login_and_audit(report, root)
        bench_archive_verify(report, root)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import report as _report

    run(_report)
