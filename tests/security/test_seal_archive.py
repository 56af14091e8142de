"""Sealed forms: the seal verifies without the private key and fails on any change; a tampered
attachment, form PDF or case field fails ``archive verify``."""
from __future__ import annotations

import copy
import json
import shutil
import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from counter_app.security.archive import verify_case
from counter_app.security.keystore import FileKeyStore
from counter_app.security.seal import Sealer, attachments_digest, verify_seal
from tests.security.casework import finalize_case

DIGEST = "ab" * 32
HASHES = ["11" * 32, "22" * 32, "33" * 32]


@pytest.fixture(scope="module")
def sealer():
    return Sealer(Ed25519PrivateKey.generate())


def test_seal_carries_algorithm_and_public_key_and_verifies_without_private_key(sealer):
    seal = sealer.seal(DIGEST, HASHES)
    assert seal["alg"] == "ed25519" and seal["public_key"] == sealer.public_key_b64
    public_only = json.loads(json.dumps(seal))  # as the platform receives it
    assert verify_seal(public_only, DIGEST, list(reversed(HASHES)))
    assert verify_seal(public_only, DIGEST, HASHES + [HASHES[0]])  # one file serving two materials
    assert verify_seal(public_only, DIGEST, HASHES, trusted_keys=[sealer.public_key_b64])


@pytest.mark.parametrize("change", ["digest", "drop_file", "add_file", "swap_file"])
def test_seal_fails_for_other_content(sealer, change):
    seal = sealer.seal(DIGEST, HASHES)
    digest, hashes = DIGEST, list(HASHES)
    if change == "digest":
        digest = "ac" + DIGEST[2:]
    elif change == "drop_file":
        hashes.pop()
    elif change == "add_file":
        hashes.append("44" * 32)
    else:
        hashes[1] = "55" * 32
    assert not verify_seal(seal, digest, hashes)


@pytest.mark.parametrize("field", ["v", "alg", "key_id", "public_key", "digest", "attachments_sha256", "signed_at",
                                   "signature"])
def test_seal_fails_when_any_field_is_edited(sealer, field):
    seal = sealer.seal(DIGEST, HASHES)
    forged = copy.deepcopy(seal)
    other = Sealer(Ed25519PrivateKey.generate()).seal(DIGEST, HASHES)
    forged[field] = {"v": 2, "alg": "sm2", "signed_at": "2030-01-01T00:00:00Z"}.get(field, other[field])
    if field == "attachments_sha256":
        forged[field] = attachments_digest(HASHES[:1])
    if field == "digest":
        forged[field] = "cd" * 32
    assert forged != seal
    assert not verify_seal(forged, DIGEST, HASHES)


def test_a_self_made_key_is_refused_when_keys_are_pinned(sealer):
    impostor = Sealer(Ed25519PrivateKey.generate())
    seal = impostor.seal(DIGEST, HASHES)
    assert verify_seal(seal, DIGEST, HASHES)  # internally consistent…
    assert not verify_seal(seal, DIGEST, HASHES, trusted_keys=[sealer.public_key_b64])  # …but not this window's


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
                           max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(junk=json_values, hashes=st.lists(st.text(max_size=70), max_size=4) | json_values)
def test_verify_seal_never_raises_on_junk(junk, hashes):
    assert verify_seal(junk, DIGEST, hashes) is False


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(["v", "alg", "key_id", "public_key", "digest", "attachments_sha256", "signed_at",
                              "signature"]), value=json_values)
def test_verify_seal_never_raises_on_a_mangled_seal(sealer, field, value):
    seal = sealer.seal(DIGEST, HASHES)
    mangled = dict(seal, **{field: value})
    # Compared as JSON, the form that is signed: in Python True == 1, but a seal with "v": true
    # is not the seal that was made.
    same = json.dumps(mangled, sort_keys=True) == json.dumps(seal, sort_keys=True)
    assert verify_seal(mangled, DIGEST, HASHES) is same


def test_signing_key_lives_in_the_key_store_and_persists(tmp_path):
    ks = FileKeyStore(tmp_path / "ks.txt")
    a, b = Sealer.from_keystore(ks), Sealer.from_keystore(ks)
    assert a.public_key_b64 == b.public_key_b64 and ks.get("seal-ed25519-private") is not None


# ---- archive verify -------------------------------------------------------------------------

@pytest.fixture
def sealed(window):
    rec, app, pdf = finalize_case(window, 41)
    return rec


def _att(rec, role):
    return next(a["sha256"] for a in rec.attachments if a["role"] == role)


def _sql(window, *statements):
    window.engine.dispose()
    con = sqlite3.connect(window.db_path)
    con.execute("DROP TRIGGER IF EXISTS cases_finalized_immutable")
    for sql, params in statements:
        con.execute(sql, params)
    con.commit()
    con.close()


def _failed(window, rec):
    report = verify_case(window, rec.case_no)
    assert not report.ok
    return {c.name.split(":")[0] + (":" + c.name.split(":")[1] if c.name.startswith("file:") else "")
            for c in report.failures}, report


def test_untouched_case_verifies_every_part(window, sealed):
    report = verify_case(window, sealed.case_no)
    assert report.ok, report.to_dict()
    names = [c.name for c in report.checks]
    assert names[:3] == ["content", "audit", "seal"]
    assert {n.split(":")[1] for n in names[3:]} == {"form_pdf", "photo", "signature", "material", "settlement_letter"}


@pytest.mark.parametrize("role", ["form_pdf", "photo", "signature", "material", "settlement_letter"])
def test_a_tampered_file_fails(window, sealed, role):
    path = window.files.path_for(_att(sealed, role))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    failed, report = _failed(window, sealed)
    assert failed == {f"file:{role}"}
    assert "损坏或被改动" in report.failures[0].message


def test_a_file_swapped_for_another_valid_one_fails(window, sealed):
    pdf, photo = _att(sealed, "form_pdf"), _att(sealed, "photo")
    shutil.copyfile(window.files.path_for(photo), window.files.path_for(pdf))
    failed, _ = _failed(window, sealed)
    assert failed == {"file:form_pdf"}


def test_a_deleted_file_fails(window, sealed):
    window.files.path_for(_att(sealed, "signature")).unlink()
    failed, report = _failed(window, sealed)
    assert failed == {"file:signature"} and "丢失" in report.failures[0].message


def test_a_tampered_case_column_fails(window, sealed):
    _sql(window, ("UPDATE cases SET operator = 'clerk9' WHERE id = ?", (sealed.id,)))
    failed, _ = _failed(window, sealed)
    assert failed == {"content"}


def test_a_changed_attachment_list_fails(window, sealed):
    _sql(window, ("DELETE FROM case_attachments WHERE case_id = ? AND role = 'material'", (sealed.id,)))
    failed, _ = _failed(window, sealed)
    assert failed == {"content", "seal"}


def test_a_payload_copied_from_another_case_fails(window, sealed):
    other, _, _ = finalize_case(window, 42)
    _sql(window, ("UPDATE cases SET payload_enc = (SELECT payload_enc FROM cases WHERE id = ?) WHERE id = ?",
                  (other.id, sealed.id)))
    failed, report = _failed(window, sealed)
    assert failed == {"content"} and "密文校验失败" in report.failures[0].message


def test_a_rewritten_digest_and_a_seal_by_another_key_fail(window, sealed):
    impostor = Sealer(Ed25519PrivateKey.generate())
    forged_digest = "ee" * 32
    hashes = [a["sha256"] for a in sealed.attachments]
    seal = impostor.seal(forged_digest, hashes)
    _sql(window, ("UPDATE cases SET content_digest = ?, seal = ? WHERE id = ?",
                  (forged_digest, json.dumps(seal), sealed.id)))
    failed, report = _failed(window, sealed)
    assert failed == {"content", "audit", "seal"}
    assert "不是本窗口" in next(c.message for c in report.failures if c.name == "seal")


def test_cli_archive_verify(window, sealed, capsys):
    from tests.security.test_cli import run

    code, out = run(capsys, "archive", "verify", sealed.case_no, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    path = window.files.path_for(_att(sealed, "form_pdf"))
    path.write_bytes(path.read_bytes()[:-1])
    code, out = run(capsys, "archive", "verify", sealed.case_no, "--json")
    body = json.loads(out)
    assert code == 1 and body["ok"] is False
    assert [c["name"].split(":")[1] for c in body["checks"] if c["ok"] is False] == ["form_pdf"]
    code, out = run(capsys, "archive", "verify", sealed.case_no)
    assert code == 1 and "申请表PDF" in out and "核验失败" in out
