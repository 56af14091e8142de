"""Defaults the window's configuration supplies to documents when the caller passes none.

Only values a center has actually configured (``config.toml`` in the data directory exists)
are used: the letters then name the configured county departments and the receipt's QR code
the configured lookup address. Without a configuration the documents derive what they can from
the case itself. Reading a small TOML file, never the database.

Thread contract: pure reads; safe from any thread.
"""
from __future__ import annotations

DEFAULT_LOOKUP_URL = "https://www.hnzwfw.gov.cn/"


def configured(name: str) -> str | None:
    """The configured value of setting ``name``, or None when not configured / unreadable."""
    try:
        from counter_app.config import load_settings
        from counter_app.paths import data_home

        path = data_home() / "config.toml"
        if not path.exists():
            return None
        value = load_settings(path).values.get(name)
    except Exception:  # a broken config must not stop a receipt from printing; the UI reports it
        return None
    return str(value).strip() or None if value is not None else None


def lookup_link(case_no: str, compact: str) -> str:
    """The progress-lookup link for a case from the configured ``lookup_url``: a ``{case_no}``
    placeholder is filled in, otherwise the number is added as the ``case_no`` query parameter."""
    base = configured("lookup_url") or DEFAULT_LOOKUP_URL
    if "{case_no}" in base:
        return base.replace("{case_no}", compact)
    return base + ("&" if "?" in base else "?") + f"case_no={compact}"
