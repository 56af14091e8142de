"""A window whose finalized demo cases (real rendered forms) wait for the center's signature."""
from __future__ import annotations

from pathlib import Path

from app.demo.seed import seed
from app.signing.service import SigningService


def configure_pkcs12(window, pki, p12: Path | None = None, tsa_url: str = "") -> None:
    s = window.settings
    s.set("signing_key_kind", "pkcs12")
    s.set("signing_pkcs12_path", str(p12 or pki.p12_path))
    s.set("signing_trust_root", str(pki.root_pem_path))
    s.set("signing_tsa_url", tsa_url)


def configure_token(window, pki, library: str, label: str) -> None:
    s = window.settings
    s.set("signing_key_kind", "pkcs11")
    s.set("signing_pkcs11_library", library)
    s.set("signing_token_label", label)
    s.set("signing_key_label", "center")
    s.set("signing_trust_root", str(pki.root_pem_path))


def finalized_cases(window, count: int = 1, seed_no: int = 7) -> list[str]:
    return seed(window, count, finalized=True, seed=seed_no)


def service(window) -> SigningService:
    return SigningService(window, interval=3600)
