"""Sync with the provincial platform: a durable outbox drained exactly once, progress pulled back.

Public API (see each module for its thread contract):

- ``SyncWorker(window, *, clock=None)`` — the background worker (``start``, ``stop``, ``wake``,
  ``pull_now``, ``retry_now``, ``add_listener``);
- ``sync_status(window) -> SyncStatus`` and ``acceptance_allowed(window) -> (bool, reason)`` —
  quick local reads, fine on the GUI thread;
- ``PlatformClient`` / ``client_for(window)`` — one method per contract endpoint;
- ``fetch_worklist(window)``, ``lookup_data_sharing(window, id_number)``, ``record_rating``;
- ``export_bundle(window, out_dir)`` — the offline bundle;
- ``get_token(window)`` / ``set_token(window, token)`` — the window credential.
"""
from __future__ import annotations

from counter_app.sync.bundle import BundleError, export_bundle
from counter_app.sync.client import (
    AttachmentsMissing, CredentialsError, PlatformClient, RejectedError, SyncError, TransientError, client_for,
)
from counter_app.sync.credentials import get_token, set_token
from counter_app.sync.outbox import OutboxDrainer, quarantined_entries, requeue, retry_all_now
from counter_app.sync.ratings import record_rating
from counter_app.sync.status import SyncStatus, acceptance_allowed, recovered_cases, sync_status
from counter_app.sync.worker import SyncWorker
from counter_app.sync.worklist import fetch_worklist, lookup_data_sharing, worklist_entries

__all__ = [
    "AttachmentsMissing", "BundleError", "CredentialsError", "OutboxDrainer", "PlatformClient", "RejectedError",
    "SyncError", "SyncStatus", "SyncWorker", "TransientError", "acceptance_allowed", "client_for", "export_bundle",
    "fetch_worklist", "get_token", "lookup_data_sharing", "quarantined_entries", "record_rating", "recovered_cases",
    "requeue", "retry_all_now", "set_token", "sync_status", "worklist_entries",
]
