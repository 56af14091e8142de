"""The signing worker: signs queued documents with the center's key, in the background.

Finalizing a case queues its documents (the form, the receipt, the 落户介绍信 when there is one)
in the finalize transaction; this worker turns each into a signed archival copy
(:func:`printing.pdfa.archival_copy` + :func:`printing.pdf_signing.sign_pdf`), stores it
(encrypted, content-addressed) and marks the job signed. When the key cannot sign (no token,
locked, bad PIN, expired certificate, time-stamp authority down) the jobs stay queued, the
reason is published in Chinese for the status bar and the supervisor's page, and the next round
(every ``interval`` seconds, or at :meth:`wake`) tries again: acceptance never waits for it.

Thread contract: one thread of its own ("signing-worker"); :meth:`drain` may also be called
directly (CLI, tests) and is serialized by a lock; listeners are called on the worker thread.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from app.signing.keys import KeyUnavailable, SigningKeys
from counter_app.config import DocumentDetails
from counter_app.signing_queue import DOCUMENT_TITLES, SigningQueue
from printing.result import PrintingError

if TYPE_CHECKING:
    from printing.page import SealPlace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningStatus:
    waiting: int
    signed_now: int
    problem: str  # Chinese, "" when the last round had none


def unsigned_document(window, case_id: str, kind: str, case: dict) -> "tuple[bytes, SealPlace]":  # noqa: ANN001
    """The document as rendered (the sealed form's very bytes when stored) and where its signature goes."""
    from printing import letters, receipt
    from printing.form import FORM_SEAL_PLACE, render_application_form

    record = window.cases.get(case_id)
    details = DocumentDetails.of(window.settings)  # printing is handed the window's names and link
    if kind == "form":
        for att in record.attachments:
            if att["role"] == "form_pdf" and window.files.exists(att["sha256"]):
                return window.files.get(att["sha256"]), FORM_SEAL_PLACE
        app = record.application
        pdf = render_application_form(case, photo_jpeg=window.files.get(app.photo) if app.photo else None,
                                      signature_png=window.files.get(app.signature) if app.signature else None).pdf
        return pdf, FORM_SEAL_PLACE
    if kind == "receipt":
        return receipt.render_receipt(case, lookup_url=details.lookup_url,
                                      military_office=details.military_office).pdf, receipt.RECEIPT_SEAL_PLACE
    if kind == "settlement_letter":
        return letters.render_settlement_letter(case, issuer=details.county_va_name).pdf, letters.LETTER_SEAL_PLACE
    raise ValueError(f"unknown document kind {kind!r}")


class SigningWorker:
    def __init__(self, window, keys: SigningKeys, *, interval: float = 30.0,  # noqa: ANN001 - services.Window
                 clock: Callable[[], _dt.datetime] | None = None, name: str = "signing-worker"):
        self.window = window
        self.keys = keys
        self.queue = SigningQueue(window.sessions)
        self.interval = interval
        self._clock = clock or (lambda: _dt.datetime.now().astimezone())
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SigningStatus], None]] = []
        self.last_problem = ""
        self.before_first_round: Callable[[], object] | None = None

    # ---- control -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def add_listener(self, callback: Callable[[SigningStatus], None]) -> None:
        self._listeners.append(callback)

    def _run(self) -> None:
        if self.before_first_round is not None:
            self.before_first_round()
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:  # the worker must outlive any one bad round; the traceback goes to the log
                log.exception("signing round failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    # ---- work --------------------------------------------------------------------------------
    def drain(self, limit: int | None = None) -> SigningStatus:
        """Sign what waits (up to ``limit``); stops at the first key problem, which stays published."""
        from printing.pdf_signing import SigningError

        with self._lock:
            signed, problem = 0, ""
            jobs = self.queue.waiting(limit or 1000)
            if jobs:
                try:
                    with self.keys.signer() as signer:
                        for job in jobs:
                            if self._stop.is_set():
                                break
                            try:
                                self._sign_one(job, signer)
                                signed += 1
                            except PrintingError as exc:  # this case's data: the others go on
                                self.queue.mark_failed(job.id, exc.message)
                            except (KeyUnavailable, SigningError, *_token_errors()):
                                raise  # the key or the TSA: stop this round, keep every job
                            except Exception as exc:  # a defect with one document must not stall the queue
                                log.exception("signing %s of %s failed", job.kind, job.case_no)
                                self.queue.mark_failed(job.id, f"生成签章文件时出错（{type(exc).__name__}），"
                                                               "已记入日志，请联系技术人员。")
                except KeyUnavailable as exc:
                    problem = exc.message
                except SigningError as exc:
                    problem = exc.message
                except _token_errors() as exc:
                    problem = f"UKey在签名时出错（{type(exc).__name__}），可能已被拔出；插回后自动补签。"
            self.last_problem = problem
            status = SigningStatus(self.queue.summary().waiting, signed, problem)
        for cb in list(self._listeners):
            cb(status)
        return status

    def _sign_one(self, job, signer) -> None:  # noqa: ANN001
        from printing import pdfa
        from printing.pdf_signing import SignatureRequest, sign_pdf

        case = self.window.cases.export(job.case_id)
        pdf, place = unsigned_document(self.window, job.case_id, job.kind, case)
        now = self._clock()
        title = f"{DOCUMENT_TITLES[job.kind]} {job.case_no}"
        attachment = case_json_bytes(case) if job.kind == "form" else None
        archival = pdfa.archival_copy(pdf, title=title, author=self.window.settings.center_name,
                                      attachment=attachment, at=now)
        cfg = self.keys.config
        signed = sign_pdf(archival, signer, SignatureRequest(
            self.window.settings.center_name, place, location=self.window.settings.center_name,
            timestamp_url=cfg.tsa_url or None), at=now)
        digest = self.window.files.put(signed)
        self.queue.mark_signed(job.id, digest, len(signed), signer.signing_cert.subject.human_friendly)


def _token_errors() -> tuple[type[BaseException], ...]:
    import pkcs11.exceptions

    return (pkcs11.exceptions.PKCS11Error,)


def case_json_bytes(case: dict) -> bytes:
    return json.dumps(case, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
