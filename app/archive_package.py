"""The archival package of one case, for the center's archive (DA/T 70, GB/T 18894 practice).

``counter-app archive export CASE -o DIR`` writes::

    DIR/case.json                     the case as exported (decrypted), with its window seal
    DIR/documents/form.pdf            the signed form, PDF/A-3b, case JSON attached
    DIR/documents/receipt.pdf         the signed receipt (PDF/A-3b)
    DIR/documents/settlement-letter.pdf   the signed 落户介绍信, when the case has one
    DIR/attachments/<role>-<sha12>.<ext>  every attachment the seal covers (the form as rendered,
                                      photo, signature, scans of the materials)
    DIR/trust/root.pem                the trust root configured when exporting (for reference)
    DIR/manifest.json                 every file above with SHA-256, size and role
    DIR/manifest.p7s                  the center's CMS signature over manifest.json (detached)

Nothing is encrypted (an archive must open in ten years without this program's keys), so the
directory is created private (0700, files 0600) and belongs in the archive's custody.
:mod:`app.archive_check` re-verifies a package offline.

Thread contract: pure functions over the inputs; any thread.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pyhanko.sign import signers

PACKAGE_FORMAT = "counter-app/archive-package/v1"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.p7s"
CASE_JSON = "case.json"
DOCUMENT_FILES = {"form": "documents/form.pdf", "receipt": "documents/receipt.pdf",
                  "settlement_letter": "documents/settlement-letter.pdf"}
DOCUMENT_TITLES = {"form": "联办申请表", "receipt": "受理回执", "settlement_letter": "落户介绍信"}
_EXT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "application/json": "json"}


class PackageError(Exception):
    """The package cannot be written; ``message`` (Chinese) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PackageFile:
    path: str
    data: bytes
    role: str
    material: int | None = None


def attachment_path(role: str, sha256: str, mime: str, material: int | None) -> str:
    tag = f"{role}-{material}" if material is not None else role
    return f"attachments/{tag}-{sha256[:12]}.{_EXT.get(mime, 'bin')}"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def sign_detached(data: bytes, signer: signers.Signer) -> bytes:
    """A detached CMS SignedData over ``data`` (SHA-256) — also checkable with ``openssl cms -verify``."""
    return asyncio.run(signer.async_sign_general_data(data, "sha256", detached=True)).dump()


def write_package(dest: Path, case_json: dict, files: list[PackageFile], signer: signers.Signer, *,
                  trust_root_pem: bytes | None, now: _dt.datetime | None = None) -> dict:
    """Write the package into ``dest`` (new or empty directory); returns the manifest."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise PackageError(f"目标目录{dest}不是空目录，请指定新目录（归档包不覆盖已有文件）。")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(dest, 0o700)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    all_files = [PackageFile(CASE_JSON, json.dumps(case_json, ensure_ascii=False, indent=2, sort_keys=True)
                             .encode("utf-8"), "case_json"), *files]
    if trust_root_pem:
        all_files.append(PackageFile("trust/root.pem", trust_root_pem, "trust_root"))
    entries = []
    for f in all_files:
        _write_private(dest / f.path, f.data)
        entry = {"path": f.path, "sha256": hashlib.sha256(f.data).hexdigest(), "size": len(f.data), "role": f.role}
        if f.material is not None:
            entry["material"] = f.material
        entries.append(entry)
    manifest = {"format": PACKAGE_FORMAT, "case_no": case_json.get("case_no"), "version": case_json.get("version"),
                "center_code": case_json.get("center_code"), "center_name": case_json.get("center_name"),
                "exported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "signer": signer.signing_cert.subject.human_friendly,
                "files": sorted(entries, key=lambda e: e["path"])}
    raw = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    _write_private(dest / MANIFEST, raw)
    _write_private(dest / MANIFEST_SIGNATURE, sign_detached(raw, signer))
    return manifest


def export_case(window, keys, case_no: str, dest: Path, *, version: int | None = None) -> dict:  # noqa: ANN001
    """Gather one finalized case from the window's store and write its package (see module doc).

    ``keys`` is the unlocked :class:`app.signing.keys.SigningKeys` (it signs the manifest). Refuses
    while a document still waits for its signature: an archive copy is final.
    """
    from counter_app.cases import CaseError
    from counter_app.security.archive import find_finalized
    from counter_app.signing_queue import SigningQueue

    try:
        row = find_finalized(window, case_no, version)
    except CaseError as exc:
        raise PackageError(exc.message) from None
    if row.purged_at is not None:
        raise PackageError(f"办件{row.case_no}的个人信息已按保留期限清除，不能再导出归档包。")
    queue = SigningQueue(window.sessions)
    jobs = queue.jobs_of(row.id)
    waiting = [DOCUMENT_TITLES[k] for k, st in jobs.items() if st != "signed"]
    if waiting:
        raise PackageError(f"办件{row.case_no}的{'、'.join(waiting)}尚未完成电子签章（在签章队列中等待），"
                           "请先解锁签章密钥完成签章后再导出。")
    case = window.cases.export(row.id)
    files = [PackageFile(attachment_path(a["role"], a["sha256"], a["mime"], a["material"]),
                         window.files.get(a["sha256"]), a["role"], a["material"]) for a in case["attachments"]]
    for kind, digest in sorted(queue.signed_documents(row.id).items()):
        files.append(PackageFile(DOCUMENT_FILES[kind], window.files.get(digest), f"signed_{kind}"))
    root = Path(keys.config.trust_root).read_bytes() if keys.config.trust_root else None
    with keys.signer() as signer:
        return write_package(dest, case, files, signer, trust_root_pem=root)
