"""Checking a signed PDF twice, with two code bases: pyHanko's validator and poppler's ``pdfsig``.

Both check against the trust roots given (PEM or DER certificates), never against the
certificates the file carries. ``pdfsig`` (poppler, NSS underneath) reads trust from an NSS
database: one is made in a temporary directory with ``certutil`` (Debian ``libnss3-tools``) for
each check and removed afterwards. ``pdfsig`` exits 0 even on a digest mismatch, so its report
lines are read. It is not given ``-no-ocsp``: poppler 22.12 then reports every certificate as
"Unknown issue"; the certificates used here carry no OCSP address, so nothing is fetched.

Thread contract: pure functions over bytes; any thread; ``check_with_pdfsig`` runs subprocesses.
"""
from __future__ import annotations

import datetime as _dt
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


@dataclass
class SignatureCheck:
    """One signature as one validator sees it. ``message`` is Chinese, for IT and archivists."""

    ok: bool
    message: str
    signer: str = ""
    signed_at: _dt.datetime | None = None
    timestamped: bool = False
    covers_whole_file: bool = False
    details: list[str] = field(default_factory=list)


def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or more) or DER bytes."""
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def check_with_pyhanko(pdf: bytes, trust_roots: list[asn1_x509.Certificate]) -> list[SignatureCheck]:
    """Every signature of ``pdf`` validated by pyHanko against ``trust_roots`` (no network)."""
    try:
        sigs = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as exc:  # any parser error means the file is damaged
        return [SignatureCheck(False, f"PDF无法解析（文件损坏）：{exc}")]
    if not sigs:
        return [SignatureCheck(False, "文件中没有电子签名。")]
    results = []
    for sig in sigs:
        vc = ValidationContext(trust_roots=trust_roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            st = validate_pdf_signature(sig, vc)
        except Exception as exc:  # malformed signature dictionaries raise from deep inside pyHanko
            results.append(SignatureCheck(False, f"签名结构损坏：{exc}"))
            continue
        signer = st.signing_cert.subject.native.get("common_name", "") if st.signing_cert else ""
        whole = st.coverage is not None and st.coverage.name == "ENTIRE_FILE"
        ts = st.timestamp_validity is not None
        if not st.intact:
            msg = "签名后文件被改动（摘要不符）。"
        elif not st.valid:
            msg = "签名值无效。"
        elif not st.trusted:
            msg = "签名证书不是由配置的信任根签发（或证书已过期）。"
        elif ts and not (st.timestamp_validity.intact and st.timestamp_validity.valid and st.timestamp_validity.trusted):
            msg = "时间戳无效或其颁发机构不受信任。"
        else:
            msg = f"签名有效：{signer}" + ("，含可信时间戳" if ts else "") + ("，覆盖整个文件" if whole else "，之后有追加修改")
        ok = bool(st.intact and st.valid and st.trusted and (not ts or st.timestamp_validity.trusted))
        results.append(SignatureCheck(ok, msg, signer, st.signer_reported_dt, ts, whole))
    return results


def pdfsig_available() -> bool:
    return shutil.which("pdfsig") is not None and shutil.which("certutil") is not None


def check_with_pdfsig(pdf: bytes, trust_roots: list[asn1_x509.Certificate], *, timeout: float = 30) -> SignatureCheck:
    """The file's signatures as poppler's ``pdfsig`` reports them, against ``trust_roots``."""
    if not pdfsig_available():
        return SignatureCheck(False, "本机未安装 pdfsig（poppler-utils）或 certutil（libnss3-tools），"
                                     "无法用第二套实现核验；请IT安装后重试。")
    with tempfile.TemporaryDirectory(prefix="pdfsig-") as tmp:
        db = Path(tmp) / "nss"
        db.mkdir()
        run = dict(capture_output=True, text=True, timeout=timeout)
        subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, **run)
        for i, cert in enumerate(trust_roots):
            der = Path(tmp) / f"root{i}.der"
            der.write_bytes(cert.dump())
            subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", f"root{i}", "-t", "C,C,C", "-i", str(der)],
                           check=True, **run)
        target = Path(tmp) / "doc.pdf"
        target.write_bytes(pdf)
        p = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(target)], **run)
    lines = [ln.strip(" -") for ln in p.stdout.splitlines()]
    sig_lines = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Signature Validation:")]
    cert_lines = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Certificate Validation:")]
    if p.returncode != 0 or not sig_lines:
        why = (p.stderr or p.stdout).strip().splitlines()
        return SignatureCheck(False, "pdfsig 未找到有效签名：" + (why[-1] if why else "无输出"), details=lines)
    signer = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Signer Certificate Common Name:")), "")
    bad = [s for s in sig_lines if s != "Signature is Valid."]
    untrusted = [c for c in cert_lines if c != "Certificate is Trusted."]
    whole = any(ln == "Total document signed" for ln in lines)
    if bad:
        return SignatureCheck(False, f"pdfsig：签名无效（{bad[0]}）。", signer, details=lines)
    if untrusted:
        return SignatureCheck(False, f"pdfsig：证书不受信任（{untrusted[0]}）。", signer, details=lines)
    return SignatureCheck(True, f"pdfsig：签名有效，证书受信任（{signer}）" + ("，覆盖整个文件" if whole else ""), signer,
                          covers_whole_file=whole, details=lines)
