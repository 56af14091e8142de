"""Fixtures for the center's signatures: a test CA made here, a PKCS#12 file, and a SoftHSM2 token.

SoftHSM2 (Debian ``softhsm2``) is a real PKCS#11 module. It reads ``SOFTHSM2_CONF`` once, when
the library is first initialised in a process, so the whole test session uses one configuration
whose token directory lives in pytest's temporary directory: no test touches
``/var/lib/softhsm``. Tokens are created with ``softhsm2-util``, the key pair is generated on the
token and the certificate written back, as a CA does with a UKey.
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.pki import LocalCA, enrol_token, init_softhsm_token, softhsm_config

SOFTHSM_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
CENTER = "新乡市红旗区退役军人服务中心"
P12_PASSWORD = "p12-secret"
PIN, SO_PIN = "246810", "13579135"


@dataclass
class Pki:
    ca: LocalCA
    root_pem_path: Path
    p12_path: Path
    expired_p12_path: Path
    tsa_cert_pem: bytes
    tsa_key_pem: bytes


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = LocalCA.create()
    (d / "root.pem").write_bytes(ca.root_pem)
    (d / "center.p12").write_bytes(ca.pkcs12_for(CENTER, P12_PASSWORD))
    old = _dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc)
    (d / "expired.p12").write_bytes(ca.pkcs12_for(CENTER, P12_PASSWORD, not_before=old,
                                                  not_after=old + _dt.timedelta(days=365)))
    tsa_cert, tsa_key = ca.timestamping_pair()
    return Pki(ca, d / "root.pem", d / "center.p12", d / "expired.p12", tsa_cert, tsa_key)


@dataclass
class Token:
    conf: Path
    library: str
    label: str
    pin: str


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """The session's SoftHSM2 configuration (exported before the library is first loaded)."""
    conf = softhsm_config(tmp_path_factory.mktemp("softhsm"))
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield conf
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


_tokens = iter(range(1, 10_000))


def new_token(conf: Path, ca: LocalCA, label: str | None = None, **kw) -> Token:
    label = label or f"CENTER{next(_tokens)}"
    init_softhsm_token(conf, label, PIN, SO_PIN)
    enrol_token(SOFTHSM_LIBRARY, label, PIN, ca, CENTER, **kw)
    return Token(conf, SOFTHSM_LIBRARY, label, PIN)


@pytest.fixture(scope="session")
def token(softhsm, pki) -> Token:
    return new_token(softhsm, pki.ca)


@pytest.fixture
def tsa(pki):
    from tests.signing.tsa_server import LoopbackTSA

    server = LoopbackTSA(pki.tsa_cert_pem, pki.tsa_key_pem, pki.ca.root_pem)
    yield server
    server.close()
