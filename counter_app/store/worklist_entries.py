"""The stored worklist entries (online applications) read without the sync package: the list is
on the start-up path, and importing the platform client (HTTP, the contract's models) costs
~0.8 s the clerk would wait for. ``counter_app.sync.worklist`` writes the entries with the same
associated data.
"""
from __future__ import annotations

import json

from counter_app.queries.worklist import claim_note  # noqa: F401 - the worklist's line, one definition
from counter_app.security.vault import Vault


def associated_data(platform_id: str) -> bytes:
    return Vault.associated_data("worklist", "payload_enc", platform_id)


def decode_entry(window, entry) -> dict:
    """The decrypted payload of a ``WorklistEntry`` row."""
    return json.loads(window.vault.decrypt(entry.payload_enc, associated_data(entry.platform_id)))
