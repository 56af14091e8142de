"""The demo signs a case like a real one: a test CA and a center certificate made at set-up."""
from __future__ import annotations

import json

from app.cli import main
from counter_app.config import load_settings
from counter_app.signing_queue import SigningQueue
from printing import pdf_verify


def test_demo_seed_finalized_creates_a_test_ca_and_signs_the_cases(capsys, _fresh_home):
    demo = load_settings(_fresh_home / "config.toml")
    demo.set("demo_mode", True)  # demo seed refuses a store that is not a demo store
    _fresh_home.mkdir(parents=True, exist_ok=True)
    demo.save()
    assert main(["demo", "seed", "--count", "2", "--finalized", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["created"] == 2 and out["signing"].startswith("已完成电子签章")
    settings = load_settings(_fresh_home / "config.toml")
    assert settings.signing_key_kind == "pkcs12"
    root = (_fresh_home / "pki" / "test-root.pem")
    assert oct(root.stat().st_mode & 0o777) == "0o600"
    assert oct((_fresh_home / "pki" / "center-demo.p12").stat().st_mode & 0o777) == "0o600"
    from counter_app.services import open_window

    w = open_window(_fresh_home)
    try:
        queue = SigningQueue(w.sessions)
        assert queue.summary().waiting == 0 and queue.summary().signed >= 4
        roots = pdf_verify.load_certificates(root.read_bytes())
        for case in w.cases.list_cases():
            for kind, digest in queue.signed_documents(case.id).items():
                [check] = pdf_verify.check_with_pyhanko(w.files.get(digest), roots)
                assert check.ok and check.signer == settings.center_name, (kind, check.message)
    finally:
        w.close()
    # a second run keeps the configured key (a real center's key is never replaced)
    before = root.read_bytes()
    assert main(["demo", "seed", "--count", "1", "--finalized"]) == 0
    assert root.read_bytes() == before and "已完成电子签章" in capsys.readouterr().out
