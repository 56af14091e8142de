"""Offline bundles: the waiting cases, sealed for manual transfer when the network is down for days.

A bundle is a zip file (``*.cvbundle``):

- ``manifest.json`` — format, center, window, time, the credential id, and per case its
  ``Idempotency-Key``, business key and the SHA-256 of its submission; per attachment its SHA-256
  and size. No personal data.
- ``manifest.sig`` — HMAC-SHA256 of ``manifest.json`` with a key derived from the window credential:
  only a holder of that credential (the window, or the platform that issued it) can make it, so the
  platform knows which window the bundle comes from and that nothing was added or changed.
- ``cases/<key>.json.enc`` and ``attachments/<sha256>.enc`` — each encrypted with AES-256-GCM under
  another key derived from the credential, the member name as associated data: a USB stick that
  goes astray does not disclose applicants' data, and a member moved to another name fails to open.

The platform imports it through the same deduplication as HTTP submissions (same key and content:
recognised, not doubled), so a bundle and a later network drain of the same cases are harmless.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from counter_app.clock import CHINA_TZ
from counter_app.store.health import explain
from counter_app.sync import contract as C
from counter_app.errors import UserError

FORMAT = "counter-app/bundle/v1"
SUFFIX = ".cvbundle"


class BundleError(UserError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def _hkdf(token: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"counter-app/bundle/v1", info=info).derive(
        token.encode("utf-8"))


def derive_bundle_keys(token: str) -> tuple[bytes, bytes]:
    """(encryption key, signing key) derived from a window credential."""
    return _hkdf(token, b"encrypt"), _hkdf(token, b"sign")


def credential_id(token: str) -> str:
    """A public name for a credential (does not reveal it)."""
    return hashlib.sha256(b"counter-app/credential-id\x00" + token.encode("utf-8")).hexdigest()[:16]


def _seal_member(key: bytes, name: str, data: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, data, name.encode("utf-8"))


def _open_member(key: bytes, name: str, blob: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], name.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise BundleError(f"离线包中的“{name}”无法解密：文件被改动，或不是用本平台登记的窗口凭据导出的。") from None


@dataclass
class ExportResult:
    path: Path | None
    cases: int
    attachments: int
    business_keys: list[str]
    warning: str = ""  # the bundle is complete, but something after it (the audit entry) failed


def export_bundle(window, out_dir: Path, *, token: str | None = None,
                  now: _dt.datetime | None = None) -> ExportResult:
    """Write every waiting case of this window into one bundle in ``out_dir``.

    The cases stay in the outbox (still "waiting"): only the platform's acknowledgement, over the
    network once it is back, marks them sent. Blocks on disk I/O; not for the GUI thread.
    """
    from counter_app import audit
    from counter_app.sync.credentials import get_token
    from counter_app.sync.outbox import build_submission, waiting_entries

    token = token or get_token(window)
    if not token:
        raise BundleError("尚未配置省平台窗口凭据，无法生成离线包。请先登记凭据（counter-app sync login）。")
    enc_key, mac_key = derive_bundle_keys(token)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    entries = waiting_entries(window)
    if not entries:
        return ExportResult(None, 0, 0, [])
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BundleError(f"无法创建导出目录 {out_dir}：{exc.strerror}。") from None
    settings = window.settings
    name = f"bundle-{settings.center_code}-{settings.window_no}-{now.astimezone(CHINA_TZ):%Y%m%d-%H%M%S}{SUFFIX}"
    path = out_dir / name
    tmp = out_dir / (name + ".tmp")
    manifest = {"format": FORMAT, "created_at": now.isoformat(timespec="seconds"),
                "center_code": settings.center_code, "window_no": settings.window_no,
                "credential_id": credential_id(token), "cases": [], "attachments": []}
    seen: set[str] = set()
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for e in entries:
                body = build_submission(window, e.case_id)
                raw = C.canonical_json(body)
                member = f"cases/{e.idempotency_key}.json.enc"
                zf.writestr(member, _seal_member(enc_key, member, raw))
                manifest["cases"].append({"idempotency_key": e.idempotency_key, "business_key": e.business_key,
                                          "member": member, "sha256": hashlib.sha256(raw).hexdigest()})
                for h in C.attachment_hashes(body["case"]):
                    if h in seen:
                        continue
                    seen.add(h)
                    data = window.files.get(h)
                    amember = f"attachments/{h}.enc"
                    zf.writestr(amember, _seal_member(enc_key, amember, data))
                    manifest["attachments"].append({"sha256": h, "size": len(data), "member": amember})
            mbytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            zf.writestr("manifest.json", mbytes)
            zf.writestr("manifest.sig", hmac.new(mac_key, mbytes, hashlib.sha256).hexdigest())
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"写入离线包失败：{exc.strerror or exc}。请检查U盘或磁盘空间。") from None
    warning = ""
    try:
        with window.sessions.begin() as s:
            audit.append(s, "system", "export", name, {"kind": "sync_bundle", "cases": len(entries)})
    except Exception as exc:  # noqa: BLE001 - only storage failures are absorbed, see explain()
        # A full disk or a damaged (read-only) store is exactly when the export is needed: the
        # bundle on the USB stick is complete and verified; only the local audit entry is missing.
        if explain(exc) is None:
            raise
        warning = "离线包已完整写出，但本机未能记入审计（" + explain(exc)[:40] + "…）。请技术人员在处理磁盘问题后补记。"
    return ExportResult(path, len(entries), len(seen), [e.business_key for e in entries], warning)


@dataclass
class BundleCase:
    idempotency_key: str
    business_key: str
    body: dict


class BundleReader:
    """Opens and verifies a bundle. ``keys_for(credential_id)`` returns (label, enc key, mac key) or None."""

    def __init__(self, path: Path, keys_for: Callable[[str], tuple[str, bytes, bytes] | None]):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise BundleError(f"找不到离线包 {path}。") from None
        except (zipfile.BadZipFile, OSError):
            raise BundleError(f"{path} 不是有效的离线包（文件损坏或格式不对）。") from None
        try:
            self.manifest_bytes = self._zip.read("manifest.json")
            sig = self._zip.read("manifest.sig").decode("ascii", "replace").strip()
            self.manifest = json.loads(self.manifest_bytes)
        except (KeyError, ValueError):
            raise BundleError("离线包缺少清单或清单损坏。") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise BundleError("离线包格式版本不受支持。")
        keys = keys_for(str(self.manifest.get("credential_id")))
        if keys is None:
            raise BundleError("离线包不是由本平台登记的窗口凭据导出的，拒绝导入。")
        self.credential_label, self._enc, mac = keys
        expect = hmac.new(mac, self.manifest_bytes, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expect, sig):
            raise BundleError("离线包签名验证失败：清单被改动，拒绝导入。")
        self.manifest_sha256 = hashlib.sha256(self.manifest_bytes).hexdigest()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "BundleReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _member(self, name: str) -> bytes:
        try:
            return _open_member(self._enc, name, self._zip.read(name))
        except KeyError:
            raise BundleError(f"离线包缺少“{name}”。") from None

    def attachments(self) -> Iterator[tuple[str, bytes]]:
        for a in self.manifest.get("attachments", []):
            data = self._member(a["member"])
            if hashlib.sha256(data).hexdigest() != a["sha256"]:
                raise BundleError(f"离线包中的附件{a['sha256'][:12]}…与其摘要不符。")
            yield a["sha256"], data

    def cases(self) -> Iterator[BundleCase]:
        for c in self.manifest.get("cases", []):
            raw = self._member(c["member"])
            if hashlib.sha256(raw).hexdigest() != c["sha256"]:
                raise BundleError(f"离线包中的办件{c['business_key']}与清单记录不符。")
            yield BundleCase(c["idempotency_key"], c["business_key"], json.loads(raw))


