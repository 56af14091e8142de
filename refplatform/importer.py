"""Importing an offline bundle exported by a window (``counter-app platform import BUNDLE``).

The bundle's signature and every member are verified first (see ``counter_app.sync.bundle``); then
attachments are stored (hash-checked) and each case goes through ``PlatformStore.receive_case``,
exactly as if it had arrived over HTTP: a case already received (over the network or from an
earlier copy of the bundle) is recognised and counted, never doubled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from refplatform.errors import PlatformError
from refplatform.store import PlatformStore
from counter_app.sync.bundle import BundleError, BundleReader


@dataclass
class ImportSummary:
    cases: int = 0
    new: int = 0
    replayed: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (business key, message)
    attachments: int = 0
    window: str = ""

    def to_dict(self) -> dict:
        return {"cases": self.cases, "new": self.new, "replayed": self.replayed, "attachments": self.attachments,
                "refused": [{"business_key": k, "message": m} for k, m in self.refused], "window": self.window}


def import_bundle(store: PlatformStore, path: Path) -> ImportSummary:
    """Raises ``BundleError`` (Chinese message) when the bundle cannot be trusted or read."""

    def keys_for(cid: str):
        k = store.bundle_keys(cid)
        return (k.label, k.enc_key, k.mac_key) if k else None

    summary = ImportSummary()
    with BundleReader(path, keys_for) as reader:
        summary.window = reader.credential_label
        caller = store.caller_by_label(reader.credential_label)
        if caller is None:  # the bundle verified with keys of a credential that is gone
            raise BundleError("离线包的窗口凭据已不在平台登记，无法导入。")
        for sha, data in reader.attachments():
            store.put_attachment(caller.center_code, sha, 0, data, len(data))
            summary.attachments += 1
        for case in reader.cases():
            summary.cases += 1
            try:
                res = store.receive_case(case.idempotency_key, case.body, caller=caller, source="bundle")
            except PlatformError as exc:
                summary.refused.append((case.business_key, exc.message))
                continue
            if res.replayed:
                summary.replayed += 1
            else:
                summary.new += 1
        store.record_import(reader.manifest_sha256, reader.credential_label, summary.to_dict())
    return summary
