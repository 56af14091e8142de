"""The stored worklist entries (online applications) read without the sync package: the list is
on the start-up path, and importing the platform client (HTTP, the contract's models) costs
~0.8 s the clerk would wait for. ``counter_app.sync.worklist`` writes the entries with the same
associated data.
"""
from __future__ import annotations

import json

from counter_app.security.vault import Vault


def associated_data(platform_id: str) -> bytes:
    return Vault.associated_data("worklist", "payload_enc", platform_id)


def decode_entry(window, entry) -> dict:
    """The decrypted payload of a ``WorklistEntry`` row."""
    return json.loads(window.vault.decrypt(entry.payload_enc, associated_data(entry.platform_id)))


def claim_note(entry: dict, own_window_no: str) -> str:
    """"正在02号窗口受理" for an entry another window holds; "" otherwise."""
    claim = entry.get("claim") or {}
    other = claim.get("window_no")
    return f"正在{other}号窗口受理" if other and other != own_window_no else ""
