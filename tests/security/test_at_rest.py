"""No personal value is readable at rest: the database file, its WAL, the attachment store and
the logs are searched byte by byte for every seeded name (UTF-8, UTF-16), ID number, phone,
address and bank card number."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from counter_app.cases import Actor
from counter_app.security.log_filter import install
from counter_app.store.models import CaseRow
from tests.security.casework import finalizable, finalize_case, material_text

ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")


def _needles(app) -> dict[str, list[bytes]]:
    a, h = app.applicant, app.hukou
    values = {
        "name": a.name, "backup_contact": a.backup_contact, "id_number": a.id_number, "phone": a.phone,
        "backup_phone": a.backup_phone, "address": a.current_address, "bank": app.veteran_affairs.bank_account,
    }
    if h.head_name:
        values.update(head_name=h.head_name, head_id=h.head_id_number)
    out = {}
    for k, v in values.items():
        # Names are short: search them in every encoding; numbers also as UTF-16 (a PDF text string).
        out[k] = [v.encode(enc) for enc in ENCODINGS]
    return out


def _haystacks(home) -> dict[str, bytes]:
    files = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and "keys" not in path.parts:
            files[str(path.relative_to(home))] = path.read_bytes()
    return files


@pytest.fixture
def logged(tmp_path):
    """DEBUG logging to a file, SQL statements and rows included, with the personal-data filter installed."""
    log_path = tmp_path / "counter.log"
    root = logging.getLogger()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    install(root)
    yield log_path
    root.removeHandler(handler)
    handler.close()
    root.setLevel(old_level)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def test_no_plaintext_in_database_wal_attachments_or_logs(window, logged):
    apps = []
    for seed in range(3):
        rec, app, pdf = finalize_case(window, seed)
        apps.append(app)
        # The search would find the values if a file were stored in clear: this material holds them.
        clear = material_text(app)
        for enc in ENCODINGS:
            assert app.applicant.name.encode(enc) in clear and app.applicant.id_number.encode(enc) in clear
    draft_app = finalizable(window, 99)
    window.cases.create_draft(draft_app, Actor("clerk1", "clerk"))
    apps.append(draft_app)
    # Searches go through the blind index; a code path that slips and logs numbers is masked.
    assert window.cases.find_by_id_number(apps[0].applicant.id_number)
    assert window.cases.find_by_phone(apps[1].applicant.phone)
    slip = logging.getLogger("counter_app.slip")
    slip.warning("查询 %s 电话 %s 卡号 %s", apps[2].applicant.id_number, apps[2].applicant.phone,
                 apps[2].veteran_affairs.bank_account)
    try:
        raise ValueError(f"bad id {apps[3].applicant.id_number}")
    except ValueError:
        slip.exception("failed for %s", apps[3].applicant.phone)

    for handler in logging.getLogger().handlers:
        handler.flush()
    files = _haystacks(window.home)
    files["log"] = logged.read_bytes()
    assert any(name.endswith("-wal") for name in files), "the WAL must be part of the search"
    assert len([n for n in files if n.startswith("attachments")]) >= 3 * 3
    assert "sqlalchemy.engine" in files["log"].decode("utf-8")  # SQL was really logged
    assert "查询 " in files["log"].decode("utf-8")
    found = []
    for app in apps:
        for kind, variants in _needles(app).items():
            for name, data in files.items():
                for needle in variants:
                    if needle in data:
                        found.append((kind, name))
    assert found == []


def test_ciphertext_bound_to_its_row(window):
    rec_a, _, _ = finalize_case(window, 1)
    rec_b, _, _ = finalize_case(window, 2)
    with window.sessions() as s:
        a = s.get(CaseRow, rec_a.id)
        blob = a.payload_enc
    from counter_app.security.vault import DecryptionError, Vault

    assert window.vault.decrypt(blob, Vault.associated_data("cases", "payload_enc", rec_a.id))
    with pytest.raises(DecryptionError):
        window.vault.decrypt(blob, Vault.associated_data("cases", "payload_enc", rec_b.id))
    with pytest.raises(DecryptionError):
        window.vault.decrypt(blob, Vault.associated_data("worklist", "payload_enc", rec_a.id))


def test_form_pdf_is_an_encrypted_attachment(window):
    rec, app, pdf = finalize_case(window, 5)
    pdf_hash = next(a["sha256"] for a in rec.attachments if a["role"] == "form_pdf")
    on_disk = window.files.path_for(pdf_hash).read_bytes()
    assert not on_disk.startswith(b"%PDF") and b"%PDF" not in on_disk
    assert window.files.get(pdf_hash) == pdf


def test_blind_index_lookup_and_keys(window):
    recs = [finalize_case(window, s) for s in (11, 12)]
    (r1, a1, _), (r2, a2, _) = recs
    hits = window.cases.find_by_id_number(a1.applicant.id_number.lower())
    assert [h.case_no for h in hits] == [r1.case_no]
    assert hits[0].masked_id == a1.applicant.id_number[:3] + "*" * 11 + a1.applicant.id_number[-4:]
    assert [h.case_no for h in window.cases.find_by_phone("+86 " + a2.applicant.phone)] == [r2.case_no]
    with window.sessions() as s:
        rows = s.execute(select(CaseRow.id_bidx, CaseRow.phone_bidx)).all()
    # Tokens are keyed: a plain SHA-256 of the number is not what is stored.
    import hashlib

    plain = hashlib.sha256(a1.applicant.id_number.encode()).hexdigest()
    assert all(plain not in (i, p) for i, p in rows)
    # Same value, different kind → different token (an ID number never matches a phone index).
    v = window.vault
    assert v.blind_index("id_number", "13800000000") != v.blind_index("phone", "13800000000")
