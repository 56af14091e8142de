"""Transport security against a real TLS server on loopback: the extranet CA bundle, certificate
pinning on top of (not instead of) chain and host name checks, plain HTTP only to loopback."""
from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from counter_app.sync.client import PlatformClient, TransientError
from counter_app.sync.transport import TransportConfigError, check_url, make_session
from tests.sync.helpers import CREDENTIAL, TOKEN


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pki(tmp_path, san_ip: bool):
    now = _dt.datetime.now(_dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("河南政务外网测试根CA")).issuer_name(_name("河南政务外网测试根CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName("platform.example")]
    if san_ip:
        sans.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    leaf = (x509.CertificateBuilder().subject_name(_name("platform.example")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))
    d = tmp_path / ("pki-ip" if san_ip else "pki-dns")
    d.mkdir()
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    pin = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    return d, pin


@pytest.fixture
def tls_platform(tmp_path):
    from refplatform.server import start_in_thread

    d, pin = _pki(tmp_path, san_ip=True)
    h = start_in_thread(tmp_path / "tls-platform", [CREDENTIAL], ssl_certfile=str(d / "cert.pem"),
                        ssl_keyfile=str(d / "key.pem"))
    yield h, d, pin
    h.stop()


def _client(url, **kw) -> PlatformClient:
    return PlatformClient(url, TOKEN, make_session(**kw), timeout=(2.0, 5.0))


def test_extranet_ca_bundle_verifies_the_platform(tls_platform):
    h, d, _ = tls_platform
    assert h.url.startswith("https://127.0.0.1:")
    assert _client(h.url, ca_bundle=str(d / "ca.pem")).whoami()["window"]
    with pytest.raises(TransientError) as exc:  # the system store does not know the extranet CA
        _client(h.url).health()
    assert "无法验证省平台服务器证书" in exc.value.message


def test_pinning_checks_each_connection(tls_platform):
    h, d, pin = tls_platform
    ok = _client(h.url, ca_bundle=str(d / "ca.pem"), pinned_cert_sha256=pin)
    assert ok.health()["status"] == "ok"
    wrong = _client(h.url, ca_bundle=str(d / "ca.pem"), pinned_cert_sha256="0" * 64)
    with pytest.raises(TransientError) as exc:
        wrong.health()
    assert "指纹不符" in exc.value.message


def test_pinning_does_not_switch_off_host_name_checks(tmp_path):
    """A certificate with the right pin but for another host name is still refused."""
    from refplatform.server import start_in_thread

    d, pin = _pki(tmp_path, san_ip=False)
    h = start_in_thread(tmp_path / "p2", [CREDENTIAL], ssl_certfile=str(d / "cert.pem"), ssl_keyfile=str(d / "key.pem"))
    try:
        with pytest.raises(TransientError) as exc:
            _client(h.url, ca_bundle=str(d / "ca.pem"), pinned_cert_sha256=pin).health()
        assert "证书" in exc.value.message
    finally:
        h.stop()


def test_plain_http_only_to_loopback(tmp_path):
    assert check_url("http://127.0.0.1:8800/") == "http://127.0.0.1:8800"
    assert check_url("http://localhost:8800") == "http://localhost:8800"
    assert check_url("https://10.41.0.8/ythj") == "https://10.41.0.8/ythj"
    with pytest.raises(TransportConfigError) as exc:
        check_url("http://10.41.0.8:8800")
    assert "https" in exc.value.message
    with pytest.raises(TransportConfigError):
        check_url("ftp://10.41.0.8")
    with pytest.raises(TransportConfigError) as exc2:
        make_session(ca_bundle=str(tmp_path / "missing-ca.pem"))
    assert "CA证书文件不存在" in exc2.value.message
    assert make_session().verify is True
