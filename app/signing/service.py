"""The signing service the screens and commands use: key configuration, unlock, self-test, the
queue's figures and the background worker, behind one object.

The screens (``ui``) never import this layer: ``app.gui`` lends them a :class:`SigningService`
through ``ui.context.AppHooks``. Every method a screen calls returns an :class:`Outcome` (a
Chinese sentence for the clerk or IT) instead of raising, so no traceback reaches a dialog.

Thread contract: methods may be called from any thread (the key's own lock serializes use of the
token); the self-test and unlock touch the token and belong on a worker, not the GUI thread.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from app.signing.keys import KIND_TITLES, KeyConfig, KeyUnavailable, SigningKeys
from app.signing.worker import SigningStatus, SigningWorker
from counter_app.clock import CHINA_TZ
from counter_app.signing_queue import QueueSummary, SigningQueue


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


class SigningService:
    def __init__(self, window, *, interval: float = 30.0, start_worker: bool = False):  # noqa: ANN001 - services.Window
        self.window = window
        self.keys = SigningKeys(KeyConfig.from_settings(window.settings))
        self.worker = SigningWorker(window, self.keys, interval=interval)
        self.queue = SigningQueue(window.sessions)
        if start_worker:
            self.worker.start()

    # ---- configuration -----------------------------------------------------------------------
    def reload_settings(self) -> None:
        """After IT saved the settings page: a changed key location forgets the old PIN."""
        config = KeyConfig.from_settings(self.window.settings)
        if config != self.keys.config:
            self.keys.config = config
            self.keys.lock()

    def describe(self) -> str:
        cfg = self.keys.config
        if not self.keys.configured:
            return "签章密钥：未配置（办件照常受理，电子签章排队等待配置）。"
        where = cfg.pkcs12_path if cfg.kind == "pkcs12" else f"{cfg.pkcs11_library} {cfg.token_label}".strip()
        state = "已解锁" if self.keys.unlocked else "未解锁（请输入PIN码）"
        return f"签章密钥：{KIND_TITLES[cfg.kind]}，{where}，{state}。"

    # ---- actions (return values, never raise for what the user can cause) ----------------------
    def unlock(self, secret: str) -> Outcome:
        try:
            self.keys.unlock(secret)
        except KeyUnavailable as exc:
            return Outcome(False, exc.message)
        self.worker.wake()
        return Outcome(True, "签章密钥已解锁（PIN码只保存在本次运行的内存中）；排队的签章将自动补签。")

    def self_test(self, *, use_pdfsig: bool = True) -> Outcome:
        """Sign a sample page with the configured key and verify it with both validators."""
        from printing import pdf_verify, pdfa
        from printing.page import HEADER_SEAL_BOX, SealPlace
        from printing.pdf_signing import SignatureRequest, SigningError, self_test_document, sign_pdf

        now = _dt.datetime.now().astimezone()
        center = self.window.settings.center_name
        try:
            roots = self.keys.trust_roots()
            doc = pdfa.archival_copy(self_test_document(center, now), title="签章自检", author=center, at=now)
            with self.keys.signer() as signer:
                holder = signer.signing_cert.subject.native.get("common_name", "")
                not_after = signer.signing_cert["tbs_certificate"]["validity"]["not_after"].native
                signed = sign_pdf(doc, signer, SignatureRequest(center, SealPlace(0, HEADER_SEAL_BOX),
                                                                reason="签章自检",
                                                                timestamp_url=self.keys.config.tsa_url or None), at=now)
        except (KeyUnavailable, SigningError) as exc:
            return Outcome(False, exc.message)
        checks = pdf_verify.check_with_pyhanko(signed, roots)
        lines = [f"证书持有人：{holder}，有效期至 {not_after.astimezone(CHINA_TZ):%Y-%m-%d}", *(f"pyHanko：{c.message}" for c in checks)]
        ok = all(c.ok for c in checks)
        if use_pdfsig:
            other = pdf_verify.check_with_pdfsig(signed, roots)
            lines.append(other.message)
            ok = ok and other.ok
        return Outcome(ok, "自检通过：签名并用两套程序核验成功。" if ok else "自检未通过：" + lines[-1], lines)

    def queue_summary(self) -> QueueSummary:
        return self.queue.summary()

    def status_text(self) -> str:
        """One line for the supervisor's page and the status bar."""
        q = self.queue.summary()
        problem = self.worker.last_problem
        if not q.waiting:
            return f"电子签章：全部已签（{q.signed}份）。"
        oldest = f"，最早 {q.oldest_waiting_at.astimezone(CHINA_TZ):%m-%d %H:%M}" if q.oldest_waiting_at else ""
        return f"电子签章：{q.waiting}份待签{oldest}。" + (problem or q.last_error)

    def wake(self) -> None:
        """A case was just finalized: sign its documents now rather than at the next round."""
        self.worker.wake()

    def drain_now(self) -> SigningStatus:
        return self.worker.drain()

    def start(self, *, unlock_with: str | None = None) -> None:
        """Start the background worker; ``unlock_with`` (the demo's known password) is tried
        on the worker thread first, so the GUI never waits for the key."""
        if unlock_with is not None:
            self.worker.before_first_round = lambda: self.unlock(unlock_with)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
