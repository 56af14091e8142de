"""The center's signing key: a PKCS#12 file or a PKCS#11 token (the UKey a CA issues).

:class:`SigningKeys` opens the key named by the settings and hands a pyHanko signer to
``printing.pdf_signing`` (which never sees where the key lives). The PIN or the PKCS#12
password is asked by the program (settings page, or the command line) and kept in this
process's memory only: it is never written to the settings, the key store or a log. Every
failure becomes a :class:`KeyUnavailable` with a Chinese message saying what IT should do;
the signing queue keeps its jobs and tries again when the key is back.

Thread contract: one lock serializes every use of the key (a PKCS#11 session is not
thread-safe, and a UKey signs one thing at a time); any thread may call any method.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from typing import TYPE_CHECKING

from counter_app.clock import CHINA_TZ

if TYPE_CHECKING:  # pyHanko and asn1crypto load on first use, not when the GUI starts
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers

KIND_NONE, KIND_PKCS12, KIND_PKCS11 = "", "pkcs12", "pkcs11"
KIND_TITLES = {KIND_NONE: "未配置", KIND_PKCS12: "证书文件（PKCS#12）", KIND_PKCS11: "UKey / 硬件令牌（PKCS#11）"}


class KeyUnavailable(Exception):
    """The key cannot sign now. ``message`` (Chinese) says why and what to do; ``reason`` is a code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class KeyConfig:
    """Where the key is. Declared once in the settings table (``signing_*``)."""

    kind: str = KIND_NONE
    pkcs12_path: str = ""
    pkcs11_library: str = ""
    token_label: str = ""
    slot: int | None = None
    key_label: str = ""
    trust_root: str = ""
    tsa_url: str = ""

    @classmethod
    def from_settings(cls, settings) -> "KeyConfig":  # noqa: ANN001 - counter_app.config.Settings
        slot = str(settings.signing_slot).strip()
        return cls(kind=settings.signing_key_kind, pkcs12_path=settings.signing_pkcs12_path,
                   pkcs11_library=settings.signing_pkcs11_library, token_label=settings.signing_token_label,
                   slot=int(slot) if slot.isdigit() else None, key_label=settings.signing_key_label,
                   trust_root=settings.signing_trust_root, tsa_url=settings.signing_tsa_url)


def _check_validity(cert: "asn1_x509.Certificate", now: _dt.datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    holder = cert.subject.native.get("common_name", "")
    if now > not_after:
        raise KeyUnavailable("expired", f"签章证书（{holder}）已于{not_after.astimezone(CHINA_TZ):%Y年%m月%d日}过期。"
                                        "请联系CA办理证书更新，并在“系统设置 → 电子签章”中换用新证书；"
                                        "受理照常进行，签章排队等待。")
    if now < not_before:
        raise KeyUnavailable("not_yet_valid", f"签章证书（{holder}）自{not_before.astimezone(CHINA_TZ):%Y年%m月%d日}起才生效，"
                                              "请核对本机时间。")


def _pkcs11_errors():
    import pkcs11.exceptions as e

    return e


class SigningKeys:
    """The configured key, unlocked with a secret kept in memory only."""

    def __init__(self, config: KeyConfig, *, clock=None):  # noqa: ANN001 - () -> aware datetime
        self.config = config
        self._secret: str | None = None
        # The opened PKCS#12 signer: decrypting the file costs a third of a second (key derivation
        # by design); it is kept while unlocked and dropped on lock or when the file changes.
        self._p12_cache: tuple[tuple, object] | None = None
        self._lock = threading.RLock()
        self._clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))

    # ---- configuration -----------------------------------------------------------------------
    @property
    def configured(self) -> bool:
        return self.config.kind in (KIND_PKCS12, KIND_PKCS11)

    @property
    def unlocked(self) -> bool:
        return self._secret is not None

    def unlock(self, secret: str) -> None:
        """Remember the PIN / password for this process (after checking it opens the key)."""
        with self._lock:
            previous, self._secret = self._secret, secret
            try:
                with self.signer():
                    pass
            except KeyUnavailable as exc:
                if exc.reason in ("bad_pin", "pin_locked", "bad_password"):
                    self._secret = previous
                raise

    def lock(self) -> None:
        with self._lock:
            self._secret = None
            self._p12_cache = None

    def trust_roots(self) -> "list[asn1_x509.Certificate]":
        from printing.pdf_verify import load_certificates

        path = self.config.trust_root
        if not path:
            raise KeyUnavailable("no_trust_root", "未配置信任根证书（CA根证书），无法核验签名；请IT在“系统设置 → 电子签章”中选择。")
        try:
            return load_certificates(Path(path).read_bytes())
        except OSError:
            raise KeyUnavailable("no_trust_root", f"信任根证书文件不存在或无法读取：{path}") from None
        except ValueError:
            raise KeyUnavailable("no_trust_root", f"信任根证书文件格式不正确：{path}") from None

    # ---- use ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def signer(self) -> "Iterator[signers.Signer]":
        """A pyHanko signer for the configured key, held for the ``with`` block (under the lock)."""
        if not self.configured:
            raise KeyUnavailable("not_configured", "本窗口尚未配置签章密钥；请IT在“系统设置 → 电子签章”中配置证书文件或UKey。")
        if self._secret is None:
            raise KeyUnavailable("locked", "签章密钥未解锁：请在“系统设置 → 电子签章”中输入PIN码（或证书密码）。"
                                           "受理照常进行，签章排队等待。")
        with self._lock:
            if self.config.kind == KIND_PKCS12:
                yield self._pkcs12_signer()
            else:
                with self._pkcs11_signer() as s:
                    yield s

    def _pkcs12_signer(self) -> "signers.Signer":
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        path = Path(self.config.pkcs12_path)
        try:
            st = path.stat()
        except OSError:
            raise KeyUnavailable("missing_file", f"找不到签章证书文件：{path}。请IT检查“系统设置 → 电子签章”中的路径。") from None
        key_of = (str(path), st.st_mtime_ns, st.st_size, self._secret)
        if self._p12_cache is not None and self._p12_cache[0] == key_of:
            signer = self._p12_cache[1]
            _check_validity(signer.signing_cert, self._clock())
            return signer
        try:
            data = path.read_bytes()
        except OSError:
            raise KeyUnavailable("missing_file", f"找不到签章证书文件：{path}。请IT检查“系统设置 → 电子签章”中的路径。") from None
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, (self._secret or "").encode("utf-8"))
        except ValueError:
            raise KeyUnavailable("bad_password", "证书文件密码不正确（或文件已损坏），请重新输入。") from None
        if key is None or cert is None:
            raise KeyUnavailable("missing_file", f"证书文件{path.name}中没有私钥或证书。")
        a_cert = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        _check_validity(a_cert, self._clock())
        a_key = asn1_keys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
        chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in extra or []]

        signer = _parsed_key_signer(key, signing_cert=a_cert, signing_key=a_key,
                                    cert_registry=SimpleCertificateStore.from_certs([a_cert, *chain]))
        self._p12_cache = (key_of, signer)
        return signer

    @contextlib.contextmanager
    def _pkcs11_signer(self) -> "Iterator[signers.Signer]":
        from pyhanko.sign import pkcs11 as p11

        e = _pkcs11_errors()
        cfg = self.config
        lib = cfg.pkcs11_library
        if not lib or not os.path.exists(lib):
            raise KeyUnavailable("no_library", f"找不到UKey驱动（PKCS#11库）：{lib or '未填写'}。"
                                               "请IT安装CA提供的驱动，并在“系统设置 → 电子签章”中填写其路径。")
        criteria = p11.TokenCriteria(label=cfg.token_label) if cfg.token_label else None
        try:
            session = _open_session(lib, cfg.slot, criteria, self._secret)
        except e.PinIncorrect:
            self._secret = None
            raise KeyUnavailable("bad_pin", "UKey的PIN码不正确，请重新输入（多次输错会锁定UKey）。") from None
        except e.PinLocked:
            self._secret = None
            raise KeyUnavailable("pin_locked", "UKey已因PIN码多次输错被锁定，请联系CA解锁。") from None
        except (e.TokenNotPresent, e.TokenNotRecognised, e.DeviceRemoved, e.SlotIDInvalid):
            raise KeyUnavailable("no_token", _no_token_message(cfg)) from None
        except e.PKCS11Error as exc:
            if "No token" in str(exc) or "does not satisfy" in str(exc) or "too large" in str(exc):
                raise KeyUnavailable("no_token", _no_token_message(cfg)) from None
            raise KeyUnavailable("token_error", f"UKey操作失败：{type(exc).__name__} {exc}。请重新插拔UKey后重试。") from None
        try:
            label = cfg.key_label or None
            signer = p11.PKCS11Signer(session, cert_label=label, key_label=label)
            try:
                cert = signer.signing_cert
            except e.PKCS11Error as exc:
                raise KeyUnavailable("no_key", f"UKey中找不到标签为“{cfg.key_label}”的证书或私钥（{exc}）。") from None
            _check_validity(cert, self._clock())
            yield signer
        finally:
            with contextlib.suppress(Exception):  # a removed token cannot be closed cleanly
                session.close()


def _parsed_key_signer_class():
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class ParsedKeySigner(signers.SimpleSigner):
        """pyHanko's SimpleSigner parses the private key again for every signature, and OpenSSL 3
        checks an RSA key on every parse (a fifth of a second for 2048 bits); keep the parsed key."""

        def __init__(self, key, **kw):  # noqa: ANN001 - a cryptography private key
            super().__init__(**kw)
            self._parsed = key

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if isinstance(self._parsed, RSAPrivateKey) and mechanism["algorithm"].native in (
                    "rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa"):
                return self._parsed.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            return super().sign_raw(data, digest_algorithm)

    return ParsedKeySigner


def _parsed_key_signer(key, **kw):  # noqa: ANN001 - the class is built on first use (pyHanko loads late)
    global _PARSED_KEY_SIGNER
    if _PARSED_KEY_SIGNER is None:
        _PARSED_KEY_SIGNER = _parsed_key_signer_class()
    return _PARSED_KEY_SIGNER(key, **kw)


_PARSED_KEY_SIGNER = None


def _no_token_message(cfg: KeyConfig) -> str:
    which = f"“{cfg.token_label}”" if cfg.token_label else (f"插槽{cfg.slot}" if cfg.slot is not None else "")
    return (f"未检测到UKey{which}。请插入中心的UKey；受理照常进行，签章排队等待，插入后自动补签。")


def _open_session(lib: str, slot: int | None, criteria, pin: str | None):  # noqa: ANN001
    """Open a logged-in session; rescans the slots once, so a UKey plugged in after start is found."""
    import pkcs11
    from pyhanko.sign import pkcs11 as p11

    try:
        return p11.open_pkcs11_session(lib, slot_no=slot, token_criteria=criteria, user_pin=pin)
    except pkcs11.exceptions.PKCS11Error as exc:
        if "No token" not in str(exc) and "too large" not in str(exc):
            raise
    pkcs11.lib(lib).reinitialize()
    return p11.open_pkcs11_session(lib, slot_no=slot, token_criteria=criteria, user_pin=pin)
