"""Re-verifying an archival package offline: the four properties of DA/T 70 (四性).

- 真实性 (authenticity): the manifest's CMS signature and every document's PDF signature chain to
  the trust root (pyHanko, and poppler's ``pdfsig`` as a second, independent implementation);
  the window's Ed25519 seal holds over the case digest and the attachment hashes; the signed
  form is, byte for byte, the form the window sealed plus the archival and signature updates;
  the case data attached to the signed form is the case data of the package.
- 完整性 (integrity): every file the manifest lists is there with its SHA-256 and size, nothing
  is there that it does not list, and the seal's digest matches the case JSON.
- 可用性 (usability): the case JSON parses, the documents are PDF/A-3b as far as checked here
  (XMP identification, embedded fonts, output intent), images decode, PDFs open.
- 安全性 (security): no encryption, JavaScript or automatic actions in any PDF, signatures use
  SHA-256 and RSA ≥ 2048 / EC keys, no file writable by others.

Each check names the file it is about, so a changed byte is traced to its file.

Thread contract: read-only over the directory; any thread.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import json
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from app.archive_package import (
    CASE_JSON, DOCUMENT_FILES, DOCUMENT_TITLES, MANIFEST, MANIFEST_SIGNATURE, PACKAGE_FORMAT,
)
from counter_app.cases import canonical_json, sealable_content
from counter_app.security.seal import seal_problem
from printing import pdf_verify, pdfa

AUTHENTICITY, INTEGRITY, USABILITY, SECURITY = "真实性", "完整性", "可用性", "安全性"
PROPERTIES = (AUTHENTICITY, INTEGRITY, USABILITY, SECURITY)


@dataclass
class PackageCheck:
    prop: str
    subject: str  # the file (or check name) the check is about
    ok: bool | None  # None: not applicable / not yet (said, never counted as passed or failed)
    message: str

    def to_dict(self) -> dict:
        return {**asdict(self), "name": self.subject}


@dataclass
class PackageReport:
    directory: str
    case_no: str = ""
    checks: list[PackageCheck] = field(default_factory=list)
    version: int | None = None
    purged: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok is not False for c in self.checks)

    def prop_ok(self, prop: str) -> bool:
        return all(c.ok is not False for c in self.checks if c.prop == prop)

    @property
    def failed_files(self) -> list[str]:
        return sorted({c.subject for c in self.checks if c.ok is False})

    def to_dict(self) -> dict:
        return {"directory": self.directory, "case_no": self.case_no, "version": self.version, "purged": self.purged,
                "ok": self.ok, "properties": {p: self.prop_ok(p) for p in PROPERTIES},
                "checks": [c.to_dict() for c in self.checks]}


def _structure_problem(signed_data: cms.SignedData) -> str:
    """Fields a validator may skip but an unaltered file has exactly so (RFC 5652, RFC 5280)."""
    infos = list(signed_data["signer_infos"])
    if signed_data["version"].native != "v1" or len(infos) != 1 or infos[0]["version"].native != "v1":
        return "版本号或签名者数量不符"
    if [a.dump() for a in signed_data["digest_algorithms"]] != [infos[0]["digest_algorithm"].dump()]:
        return "摘要算法列表与签名者不符"
    for c in signed_data["certificates"]:
        if c.chosen["signature_algorithm"].dump() != c.chosen["tbs_certificate"]["signature"].dump():
            return "证书签名算法前后不一致"
    return ""


def _broken_certificates(signed_data: cms.SignedData, roots: list[asn1_x509.Certificate]) -> str:
    """The first certificate in the CMS whose own signature does not verify (or "" when all do).

    pyHanko ignores carried certificates it does not need (the root comes from the verifier), so a
    changed byte there would otherwise pass unnoticed; an archive must notice every change."""
    from cryptography import x509 as c_x509

    try:
        carried = [c_x509.load_der_x509_certificate(c.chosen.dump()) for c in signed_data["certificates"]]
        pool = carried + [c_x509.load_der_x509_certificate(c.dump()) for c in roots]
    except (ValueError, TypeError, c_x509.InvalidVersion) as exc:
        return f"证书无法解析（{exc}）"
    for leaf in carried:
        if not any(_signed_by(leaf, i) for i in pool if i.subject == leaf.issuer):
            return leaf.subject.rfc4514_string()
    return ""


def _signed_by(cert, issuer) -> bool:  # noqa: ANN001 - cryptography certificates
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _cms_check(manifest_raw: bytes, p7s: bytes, roots: list[asn1_x509.Certificate]) -> PackageCheck:
    try:
        signed_data = cms.ContentInfo.load(p7s)["content"]
        signed_data.native  # noqa: B018 - forces a full parse, so a damaged file fails here
    except (ValueError, TypeError, KeyError) as exc:
        return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, f"清单签名文件损坏，无法解析：{exc}")
    broken = _structure_problem(signed_data) or _broken_certificates(signed_data, roots)
    if broken:
        return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, f"清单签名文件中的证书被改动：{broken}")
    vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        st = asyncio.run(async_validate_detached_cms(manifest_raw, signed_data, signer_validation_context=vc))
    except Exception as exc:  # a broken SignerInfo raises from deep inside the validator
        return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, f"清单签名无法核验：{exc}")
    # The signature covers the signed attributes, not manifest.json itself: a valid signature
    # whose message digest does not match means manifest.json changed; an invalid one, the .p7s.
    if not st.valid:
        return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, "清单签名值无效（manifest.p7s 被改动）。")
    if not st.intact:
        return PackageCheck(AUTHENTICITY, MANIFEST, False, "清单内容与其签名不符（manifest.json 被改动）。")
    if not st.trusted:
        return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, "清单签名证书不是由信任根签发。")
    return PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, True,
                        f"清单签名有效，签名人：{st.signing_cert.subject.native.get('common_name', '')}。")


def _pdf_security(rel: str, data: bytes, problems: list[str]) -> PackageCheck:
    active = [p for p in problems if "JavaScript" in p or "加密" in p]
    if active:
        return PackageCheck(SECURITY, rel, False, "；".join(active))
    return PackageCheck(SECURITY, rel, True, "无加密、无JavaScript、无自动动作。")


def _key_strength(rel: str, data: bytes) -> PackageCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader

    weak = []
    for sig in PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures:
        cert = sig.signer_cert
        algo = cert.public_key.algorithm
        if algo == "rsa" and cert.public_key.bit_size < 2048:
            weak.append(f"RSA {cert.public_key.bit_size} 位")
        md = sig.signer_info["digest_algorithm"]["algorithm"].native
        if md in ("md5", "sha1"):
            weak.append(f"摘要算法 {md}")
    if weak:
        return PackageCheck(SECURITY, rel, False, "签名算法强度不足：" + "、".join(weak))
    return PackageCheck(SECURITY, rel, True, "签名算法：SHA-256，密钥强度符合要求。")


def _image_usable(rel: str, data: bytes) -> PackageCheck:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return PackageCheck(USABILITY, rel, True, f"图像可正常打开（{img.width}×{img.height}）。")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        return PackageCheck(USABILITY, rel, False, f"图像无法打开：{exc}")


def verify_package(directory: Path, trust_roots: list[asn1_x509.Certificate] | None = None, *,
                   use_pdfsig: bool = True) -> PackageReport:
    """Check the package in ``directory`` against ``trust_roots`` (default: the package's own
    ``trust/root.pem``, which proves integrity and origin only as far as that root is trusted)."""
    directory = Path(directory)
    report = PackageReport(str(directory))
    add = report.checks.append
    try:
        manifest_raw = (directory / MANIFEST).read_bytes()
        manifest = json.loads(manifest_raw)
        files = {e["path"]: e for e in manifest["files"]}
        if manifest.get("format") != PACKAGE_FORMAT:
            raise ValueError(f"格式 {manifest.get('format')!r}")
    except FileNotFoundError:
        add(PackageCheck(INTEGRITY, MANIFEST, False, "缺少 manifest.json，这不是归档包目录。"))
        return report
    except (ValueError, KeyError, TypeError) as exc:
        add(PackageCheck(INTEGRITY, MANIFEST, False, f"manifest.json 损坏或格式不符：{exc}"))
        return report
    report.case_no = str(manifest.get("case_no") or "")

    # 完整性: every listed file, byte for byte; nothing unlisted
    contents: dict[str, bytes] = {}
    for rel, entry in sorted(files.items()):
        path = directory / rel
        try:
            data = path.read_bytes()
        except OSError:
            add(PackageCheck(INTEGRITY, rel, False, f"{rel} 缺失。"))
            continue
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            add(PackageCheck(INTEGRITY, rel, False, f"{rel} 的SHA-256与清单不符（文件被改动）。"))
        else:
            add(PackageCheck(INTEGRITY, rel, True, f"{rel} 完整（SHA-256 {entry['sha256'][:16]}…）。"))
        contents[rel] = data
    listed = set(files) | {MANIFEST, MANIFEST_SIGNATURE}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        if rel not in listed:
            add(PackageCheck(INTEGRITY, rel, False, f"{rel} 不在清单中（多出的文件）。"))

    roots = trust_roots
    if roots is None:
        pem = contents.get("trust/root.pem")
        roots = pdf_verify.load_certificates(pem) if pem else []
        add(PackageCheck(AUTHENTICITY, "trust/root.pem", bool(pem),
                         "未指定信任根，使用包内 trust/root.pem（请核对其指纹与CA公布的一致）。" if pem
                         else "未指定信任根，包内也没有 trust/root.pem。"))

    # 真实性: the manifest's own signature
    try:
        p7s = (directory / MANIFEST_SIGNATURE).read_bytes()
        add(_cms_check(manifest_raw, p7s, roots))
    except OSError:
        add(PackageCheck(AUTHENTICITY, MANIFEST_SIGNATURE, False, "缺少清单签名 manifest.p7s。"))

    # the case JSON: usable, and its seal
    case = None
    if CASE_JSON in contents:
        try:
            case = json.loads(contents[CASE_JSON])
            add(PackageCheck(USABILITY, CASE_JSON, True, "办件数据可解析（JSON）。"))
        except ValueError as exc:
            add(PackageCheck(USABILITY, CASE_JSON, False, f"办件数据无法解析：{exc}"))
    if case is not None:
        hashes = [a["sha256"] for a in case.get("attachments", [])]
        try:
            digest = hashlib.sha256(canonical_json(sealable_content(case))).hexdigest()
        except KeyError as exc:
            digest = ""
            add(PackageCheck(INTEGRITY, CASE_JSON, False, f"办件数据缺少封存字段：{exc}"))
        if digest and digest != case.get("content_digest"):
            add(PackageCheck(INTEGRITY, CASE_JSON, False, "办件数据与定稿摘要不符（case.json 被改动）。"))
        problem = seal_problem(case.get("seal"), case.get("content_digest") or "", hashes)
        add(PackageCheck(AUTHENTICITY, CASE_JSON, problem is None,
                         problem or f"窗口签章有效（Ed25519，密钥 {case['seal'].get('key_id')}）。"))
        by_hash = {e["sha256"]: rel for rel, e in files.items() if rel.startswith("attachments/")}
        for h in sorted(set(hashes) - set(by_hash)):
            add(PackageCheck(INTEGRITY, CASE_JSON, False, f"签章所列附件 {h[:12]}… 不在包中。"))

    # documents: two validators, PDF/A, the sealed form inside the signed one
    for kind, rel in DOCUMENT_FILES.items():
        if rel not in contents:
            continue
        data, title = contents[rel], DOCUMENT_TITLES[kind]
        for check in pdf_verify.check_with_pyhanko(data, roots):
            add(PackageCheck(AUTHENTICITY, rel, check.ok and check.covers_whole_file,
                             f"{title}（pyHanko）：{check.message}"))
        if use_pdfsig:
            check = pdf_verify.check_with_pdfsig(data, roots)
            add(PackageCheck(AUTHENTICITY, rel, check.ok, f"{title}（poppler pdfsig）：{check.message}"))
        problems = pdfa.pdfa_problems(data)
        add(PackageCheck(USABILITY, rel, not problems,
                         f"{title}：" + ("PDF/A-3b 标识、字体嵌入、输出意图均符合。" if not problems else "；".join(problems))))
        add(_pdf_security(rel, data, problems))
        add(_key_strength(rel, data))
        if kind == "form" and case is not None:
            add(_form_binding(rel, data, case, contents, files))
    for rel, data in sorted(contents.items()):
        if rel.startswith("attachments/") and rel.endswith((".jpg", ".png")):
            add(_image_usable(rel, data))
    for path in sorted(directory.rglob("*")):
        mode = path.stat().st_mode
        if mode & stat.S_IWOTH:
            add(PackageCheck(SECURITY, path.relative_to(directory).as_posix(), False, "文件可被任何用户改写。"))
    return report


def _form_binding(rel: str, data: bytes, case: dict, contents: dict[str, bytes], files: dict) -> PackageCheck:
    sealed_form = next((a["sha256"] for a in case.get("attachments", []) if a.get("role") == "form_pdf"), None)
    original = next((contents[p] for p, e in files.items() if e["sha256"] == sealed_form and p in contents), None)
    if original is None:
        return PackageCheck(AUTHENTICITY, rel, False, "包中没有窗口签章所列的申请表原件，无法比对。")
    if not data.startswith(original):
        return PackageCheck(AUTHENTICITY, rel, False, "已签名申请表不是窗口封存的申请表（首个版本不一致）。")
    embedded = pdfa.embedded_attachment(data)
    try:
        same = embedded is not None and canonical_json(sealable_content(json.loads(embedded))) == \
            canonical_json(sealable_content(case))
    except (ValueError, KeyError):
        same = False
    if not same:
        return PackageCheck(AUTHENTICITY, rel, False, "已签名申请表内附的办件数据与 case.json 不一致。")
    return PackageCheck(AUTHENTICITY, rel, True, "已签名申请表即窗口封存的申请表，内附办件数据与 case.json 一致。")


# ---- a case in this window's store ------------------------------------------------------------

_STORED_PROPS = {"content": INTEGRITY, "audit": AUTHENTICITY, "seal": AUTHENTICITY, "form_pdf": INTEGRITY}


def verify_stored_case(window, case_no: str, version: int | None, trust_roots) -> PackageReport:  # noqa: ANN001
    """The window's own re-check of a finalized case (``security.archive.verify_case``: digest,
    audit, seal, files) plus the center-signed documents in the store, grouped by DA/T 70's four
    properties. ``trust_roots`` None: the signed documents' trust is reported as not checked."""
    from counter_app.security.archive import find_finalized, verify_case
    from counter_app.security.vault import MAGIC
    from counter_app.signing_queue import DOCUMENT_TITLES, SigningQueue
    from counter_app.store.files import AttachmentCorrupt, AttachmentMissing

    core = verify_case(window, case_no, version)
    report = PackageReport(str(window.home), core.case_no, version=core.version, purged=core.purged)
    add = report.checks.append
    for c in core.checks:
        add(PackageCheck(_STORED_PROPS.get(c.name, INTEGRITY), c.name, c.ok, c.message))
    row_id = find_finalized(window, core.case_no, core.version).id
    queue = SigningQueue(window.sessions)
    for kind, state in sorted(queue.jobs_of(row_id).items()):
        if state != "signed":
            add(PackageCheck(AUTHENTICITY, f"signed:{kind}", None,
                             f"{DOCUMENT_TITLES[kind]}尚未完成中心电子签章（在签章队列中等待，密钥可用时自动补签）。"))
    for kind, digest in sorted(queue.signed_documents(row_id).items()):
        title, name = DOCUMENT_TITLES[kind], f"signed:{kind}"
        if report.purged:
            add(PackageCheck(AUTHENTICITY, name, None, f"{title}：已按保留期限清除。"))
            continue
        try:
            data = window.files.get(digest)
        except (AttachmentMissing, AttachmentCorrupt) as exc:
            add(PackageCheck(INTEGRITY, name, False, f"已签名的{title}：{exc}"))
            continue
        if trust_roots:
            for check in pdf_verify.check_with_pyhanko(data, trust_roots):
                add(PackageCheck(AUTHENTICITY, name, check.ok, f"{title}：{check.message}"))
        else:
            add(PackageCheck(AUTHENTICITY, name, None, f"{title}：未配置信任根，中心电子签章未核验。"))
        problems = pdfa.pdfa_problems(data)
        add(PackageCheck(USABILITY, name, not problems,
                         f"{title}：" + ("PDF/A-3b 标识、字体嵌入、输出意图均符合。" if not problems else "；".join(problems))))
        raw = window.files.path_for(digest).read_bytes()
        add(PackageCheck(SECURITY, name, raw.startswith(MAGIC), f"{title}：" + (
            "本机以密文保存。" if raw.startswith(MAGIC) else "本机保存的文件不是密文！")))
    return report
