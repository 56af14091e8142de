"""The center's PDF signature: signing one form (archival copy + PAdES) with a PKCS#12 file and with
a SoftHSM2 token, verifying it with each validator, and verifying one case's archival package —
against rendering the same form in the same run (the baseline).

Run standalone: ``python bench/bench_signing.py`` (or through ``make bench``). The token row needs
Debian's softhsm2 (``make test`` installs it); without it the row says so and is not measured.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
CENTER = "新乡市红旗区退役军人服务中心"


def _times(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run(report) -> None:
    from app.pki import LocalCA, enrol_token, init_softhsm_token, softhsm_config
    from app.signing.keys import KeyConfig, SigningKeys
    from printing import pdf_verify, pdfa
    from printing.form import FORM_SEAL_PLACE, render_application_form
    from printing.pdf_signing import SignatureRequest, sign_pdf

    tmp = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    try:
        case = json.loads((ROOT / "tests" / "data" / "sample_case.json").read_text(encoding="utf-8"))
        ca = LocalCA.create()
        (tmp / "root.pem").write_bytes(ca.root_pem)
        (tmp / "center.p12").write_bytes(ca.pkcs12_for(CENTER, "pw"))
        roots = pdf_verify.load_certificates(ca.root_pem)
        case_json = json.dumps(case, ensure_ascii=False).encode()
        form = render_application_form(case).pdf
        report("form render (baseline)", _times(lambda: render_application_form(case), 10))

        def sign_with(keys: SigningKeys) -> bytes:
            copy = pdfa.archival_copy(form, title="联办申请表", author=CENTER, attachment=case_json)
            with keys.signer() as signer:
                return sign_pdf(copy, signer, SignatureRequest(CENTER, FORM_SEAL_PLACE))

        p12 = SigningKeys(KeyConfig(kind="pkcs12", pkcs12_path=str(tmp / "center.p12")))
        p12.unlock("pw")
        signed = sign_with(p12)
        report("sign one form: PDF/A-3 + PAdES B-B, PKCS#12 file", _times(lambda: sign_with(p12), 10),
               ratio_to="form render (baseline)")
        if shutil.which("softhsm2-util") and os.path.exists(SOFTHSM):
            os.environ["SOFTHSM2_CONF"] = str(softhsm_config(tmp / "softhsm"))
            init_softhsm_token(Path(os.environ["SOFTHSM2_CONF"]), "BENCH", "123456", "12345678")
            enrol_token(SOFTHSM, "BENCH", "123456", ca, CENTER)
            token = SigningKeys(KeyConfig(kind="pkcs11", pkcs11_library=SOFTHSM, token_label="BENCH",
                                          key_label="center"))
            token.unlock("123456")
            report("sign one form: PDF/A-3 + PAdES B-B, SoftHSM2 token", _times(lambda: sign_with(token), 10),
                   ratio_to="form render (baseline)")
        else:
            print("  (softhsm2 not installed: token signing not measured; apt-get install softhsm2)")
        report("verify one signed form: pyHanko", _times(lambda: pdf_verify.check_with_pyhanko(signed, roots), 10),
               ratio_to="form render (baseline)")
        if pdf_verify.pdfsig_available():
            report("verify one signed form: poppler pdfsig (+ NSS db)",
                   _times(lambda: pdf_verify.check_with_pdfsig(signed, roots), 10), ratio_to="form render (baseline)")
        _package(report, tmp, ca, roots)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _package(report, tmp: Path, ca, roots) -> None:  # noqa: ANN001
    from app.archive_check import verify_package
    from app.archive_package import export_case
    from app.demo.seed import seed
    from app.signing.service import SigningService
    from counter_app.services import open_window

    home = tmp / "home"
    os.environ["COUNTER_APP_HOME"] = str(home)
    window = open_window(home)
    try:
        [case_no] = seed(window, 1, finalized=True, seed=11)
        s = window.settings
        s.set("signing_key_kind", "pkcs12")
        s.set("signing_pkcs12_path", str(tmp / "center.p12"))
        s.set("signing_trust_root", str(tmp / "root.pem"))
        service = SigningService(window)
        assert service.unlock("pw").ok
        service.drain_now()
        export_case(window, service.keys, case_no, tmp / "pkg")
    finally:
        window.close()
    samples = _times(lambda: verify_package(tmp / "pkg", roots), 5)
    assert verify_package(tmp / "pkg", roots).ok
    report("verify one archival package (四性, both validators)", samples, ratio_to="form render (baseline)")
    print(f"  package verify median {statistics.median(samples) * 1000:.0f} ms")


if __name__ == "__main__":
    from run import report as _report  # noqa: E402 - bench/run.py beside this file

    run(_report)
