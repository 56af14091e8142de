"""The window's device hub with a reader configured through the vendor's SDT library: the card comes
through the library (ctypes, the C test reader), the library's own photo decoder is used."""
from __future__ import annotations

from app.services import open_devices
from counter_app.config import Settings
from devices.idcard.card_data import sample_card
from tests.sdt_reader import Desk, build_library
from ui.devices.hub import DeviceHub


def test_hub_reads_cards_through_the_configured_sdt_library(qtbot, tmp_path, monkeypatch):
    library = build_library(tmp_path)
    desk = Desk(tmp_path)
    monkeypatch.setenv("SDTAPI_FAKE_DIR", str(tmp_path))
    card = sample_card("resident_xinxiang")
    desk.place(card)
    settings = Settings()
    settings.set("reader_sdt_library", str(library))
    hub = DeviceHub(open_devices(settings, demo=False))  # the composition root chooses the SDT reader
    reads, photos = [], []
    hub.card_read.connect(reads.append)
    hub.card_photo.connect(lambda c, image, message: photos.append((image, message)))
    try:
        with qtbot.waitSignals([hub.card_read, hub.card_photo], timeout=15000):
            hub.start()
        assert [(c.id_number, c.name) for c in reads] == [(card.id_number, card.name)]
        image, message = photos[0]
        assert image is not None and not image.isNull() and (image.width(), image.height()) == (102, 126), message
        assert hub.states[0].port_or_index == "SDT 自动查找"
        with qtbot.waitSignal(hub.card_removed, timeout=15000):
            desk.lift()
    finally:
        hub.shutdown()
    assert "SDT_ReadBaseMsg 1001" in desk.calls()
