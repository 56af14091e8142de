"""A test certificate authority: root, the center's signing certificate, a time-stamping certificate,
and enrolment of a PKCS#11 token (key generated on the token, certificate written back to it).

Used by the demo (a demo case is signed like a real one) and by the tests; a real center gets
its certificate from a licensed CA. The root's name says "测试" so nobody mistakes it.

Thread contract: pure functions; ``enrol_token`` talks to the PKCS#11 library given.
"""
from __future__ import annotations

import datetime as _dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "退役军人服务测试根CA（仅供测试）"
PEM = serialization.Encoding.PEM


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage(*, sign_certs: bool = False, content_commitment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=content_commitment,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False, decipher_only=False)


@dataclass
class LocalCA:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, *, now: _dt.datetime | None = None, years: int = 10) -> "LocalCA":
        now = now or _dt.datetime.now(_dt.timezone.utc)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = _name(ROOT_NAME, "测试CA")
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=365 * years))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(sign_certs=True), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    @property
    def root_pem(self) -> bytes:
        return self.cert.public_bytes(PEM)

    def issue(self, public_key, holder: str, *, org: str | None = None, timestamping: bool = False,
              not_before: _dt.datetime | None = None, not_after: _dt.datetime | None = None) -> x509.Certificate:
        """A leaf certificate for ``public_key``: document signing, or time stamping (RFC 3161)."""
        now = _dt.datetime.now(_dt.timezone.utc)
        b = (x509.CertificateBuilder().subject_name(_name(holder, org or holder)).issuer_name(self.cert.subject)
             .public_key(public_key).serial_number(x509.random_serial_number())
             .not_valid_before(not_before or now - _dt.timedelta(hours=1))
             .not_valid_after(not_after or now + _dt.timedelta(days=730))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(_usage(content_commitment=not timestamping), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False))
        if timestamping:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return b.sign(self.key, hashes.SHA256())

    def pkcs12_for(self, holder: str, password: str, **kw) -> bytes:
        """A new key and certificate for ``holder`` as a password-protected PKCS#12 file."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self.issue(key.public_key(), holder, **kw)
        return pkcs12.serialize_key_and_certificates(
            holder.encode("utf-8"), key, cert, [self.cert], serialization.BestAvailableEncryption(password.encode()))

    def timestamping_pair(self) -> tuple[bytes, bytes]:
        """(certificate PEM, PKCS#8 key PEM) for a test time-stamping authority."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self.issue(key.public_key(), "测试时间戳服务", org="测试CA", timestamping=True)
        return cert.public_bytes(PEM), key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())


def softhsm_config(directory: Path) -> Path:
    """A SoftHSM2 configuration keeping its tokens under ``directory`` (export SOFTHSM2_CONF before
    the library is first loaded in a process: SoftHSM reads it once, at C_Initialize)."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                    "slots.removable = true\n", encoding="utf-8")
    return conf


def init_softhsm_token(conf: Path, label: str, pin: str, so_pin: str) -> None:
    """A new empty token (``softhsm2-util`` from Debian's softhsm2)."""
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin],
                   env=dict(os.environ, SOFTHSM2_CONF=str(conf)), check=True, capture_output=True, timeout=60)


def enrol_token(library: str, token_label: str, pin: str, ca: LocalCA, holder: str, *, key_label: str = "center",
                not_after: _dt.datetime | None = None) -> x509.Certificate:
    """What a CA does with a new UKey: generate the key pair on the token (never extractable),
    certify its public key, write the certificate back next to the key."""
    import pkcs11
    from asn1crypto import core as asn1_core
    from asn1crypto import keys as asn1_keys
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.rsa import encode_rsa_public_key

    lib = pkcs11.lib(library)
    lib.reinitialize()  # the token may have been created after the library was first loaded
    token = lib.get_token(token_label=token_label)
    with token.open(rw=True, user_pin=pin) as session:
        key_id = os.urandom(8)
        public, _private = session.generate_keypair(
            KeyType.RSA, 2048, id=key_id, label=key_label, store=True,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True})
        spki = asn1_keys.PublicKeyInfo.wrap(asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public)), "rsa").dump()
        cert = ca.issue(serialization.load_der_public_key(spki), holder, not_after=not_after)
        der = cert.public_bytes(serialization.Encoding.DER)
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.LABEL: key_label, Attribute.ID: key_id, Attribute.VALUE: der,
            Attribute.SUBJECT: cert.subject.public_bytes(), Attribute.ISSUER: cert.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: asn1_core.Integer(cert.serial_number).dump()})
    return cert
