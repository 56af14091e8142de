"""The printer chosen per document type: one owner (counter_app.printers), stored in the window's database."""
from __future__ import annotations

import pytest

from counter_app.printers import DOC_TYPES, UnknownDocumentType, printer_for, printer_map, save_printer_map


def test_choice_per_document_type_is_stored_and_read_back(window):
    assert printer_map(window) == {t: "" for t in DOC_TYPES}  # nothing chosen: the system default
    save_printer_map(window, {"form": "HP LaserJet M1136", "receipt": " GP-58 热敏 "})
    assert printer_for(window, "form") == "HP LaserJet M1136"
    assert printer_for(window, "receipt") == "GP-58 热敏"
    save_printer_map(window, {"form": ""})
    assert printer_map(window) == {**{t: "" for t in DOC_TYPES}, "receipt": "GP-58 热敏"}


def test_an_unknown_document_type_is_refused_and_nothing_is_written(window):
    with pytest.raises(UnknownDocumentType, match="未知的单据类型：scan"):
        save_printer_map(window, {"form": "A", "scan": "B"})
    assert printer_for(window, "form") == ""
    with pytest.raises(UnknownDocumentType):
        printer_for(window, "letter")


def test_site_configuration_writes_through_the_same_owner(window, tmp_path):
    from counter_app.site_config import apply_site_config, parse_site

    site = parse_site({"center": {"code": "410782"}, "window": {"number": 3},
                       "platform": {"url": "https://platform.example/api"},
                       "printers": {"daily_report": "Kyocera"}})
    apply_site_config(window.home, site, window=window)
    assert printer_for(window, "daily_report") == "Kyocera"
