"""The SDT-API driver through the real ctypes path, against a C library built here with ``cc``.

``sdtapi/fake_sdtapi.c`` implements the Ministry's standard API and serves cards from files in a
folder (``SDTAPI_FAKE_DIR``): no card, a read failure, a card lifted in the middle of a read, a
port without a reader. Nothing is mocked on the Python side: the driver loads the shared library,
declares the prototypes and passes real buffers.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli import main
from devices.idcard.card_data import sample_card, sample_card_names
from devices.idcard.errors import ReaderConnectionError, ReaderTimeoutError, SamStatusError
from devices.idcard.poller import CardEventKind
from devices.idcard.sdt import (
    SdtLibrary,
    SdtReader,
    library_photo_decoder,
    open_sdt_reader,
    probe_port,
    sdt_card_reader,
)
from devices.idcard.wlt import BMP_SIZE
from tests.sdt_reader import Desk, build_library

@pytest.fixture(scope="session")
def sdt_library(tmp_path_factory) -> Path:
    return build_library(tmp_path_factory.mktemp("sdtapi"))


@pytest.fixture
def desk(tmp_path, monkeypatch) -> Desk:
    folder = tmp_path / "reader"
    folder.mkdir()
    monkeypatch.setenv("SDTAPI_FAKE_DIR", str(folder))
    return Desk(folder)


@pytest.mark.parametrize("name", sample_card_names())
def test_every_card_type_is_read_through_the_library(sdt_library, desk, name):
    card = sample_card(name)
    desk.place(card)
    with open_sdt_reader(sdt_library) as reader:  # port probed: the library answers on USB 1001
        assert reader.port == 1001
        reader.sam_status()
        got = reader.read_card(new_address=True)
    assert got is not None
    # Every field of the card, as the serial driver would give it (the base message carries no fingerprint).
    assert got.to_dict() == {**card.to_dict(), "new_address": got.new_address, "warnings": got.warnings,
                             "fingerprint": ""}
    assert got.card_type == card.card_type and got.id_number == card.id_number and got.name == card.name
    assert got.photo_wlt == card.photo_wlt
    assert [c.split()[0] for c in desk.calls()] == [
        "SDT_OpenPort", "SDT_ClosePort",  # the probe
        "SDT_OpenPort", "SDT_GetSAMStatus", "SDT_StartFindIDCard", "SDT_SelectIDCard", "SDT_ReadBaseMsg",
        *(["SDT_ReadNewAppMsg"] if card.card_type == "resident" else []), "SDT_ClosePort"]


def test_appended_address_and_sam_id(sdt_library, desk):
    desk.place(sample_card("resident_xinxiang"))
    (desk.folder / "newaddr.bin").write_bytes("河南省新乡市红旗区示例路8号".encode("utf-16-le"))
    with SdtReader(SdtLibrary(sdt_library), 1001) as reader:
        assert reader.sam_id() == "05.01-20240101-0000001234-0000005678"
        card = reader.read_card(new_address=True)
    assert card.new_address == "河南省新乡市红旗区示例路8号"


def test_no_card_on_the_reader(sdt_library, desk):
    with SdtReader(sdt_library, 1001) as reader:
        assert reader.find_card() is False
        assert reader.read_card() is None


def test_read_failure_carries_the_status_and_a_chinese_message(sdt_library, desk):
    desk.place(sample_card("hmt_residence"))
    desk.fault("read_fail")
    with SdtReader(sdt_library, 1001) as reader, pytest.raises(SamStatusError) as info:
        reader.read_card()
    assert info.value.code == 0x41 and "读取身份证失败" in info.value.message


def test_a_library_timeout_is_the_reader_timeout(sdt_library, desk):
    desk.place(sample_card("hmt_residence"))
    with SdtReader(sdt_library, 1001) as reader:
        desk.fault("timeout")
        with pytest.raises(ReaderTimeoutError, match="读卡器无响应"):
            reader.find_card()


def test_the_poller_reports_new_same_lifted_and_a_card_lifted_mid_read(sdt_library, desk):
    first, second = sample_card("resident_xinxiang"), sample_card("foreign_2023")
    reader = sdt_card_reader(sdt_library)
    try:
        assert reader.poll_once().kind is CardEventKind.NO_CARD
        desk.place(first)
        event = reader.poll_once()
        assert event.kind is CardEventKind.NEW_CARD and event.card.id_number == first.id_number
        # The module does not find a card it has read until it is lifted: the poller re-reads it.
        same = reader.poll_once()
        assert same.kind is CardEventKind.SAME_CARD and same.message == "证件仍在读卡区"
        desk.place(second)
        event = reader.poll_once()
        assert event.kind is CardEventKind.NEW_CARD and event.card.id_number == second.id_number
        desk.lift()
        assert reader.poll_once().kind is CardEventKind.NO_CARD

        desk.place(first)
        desk.fault("lift_during_read")
        event = reader.poll_once()
        assert event.kind is CardEventKind.ERROR and event.status_code == 0x41
        assert "不要移动" in event.message and not (desk.folder / "card.bin").exists()
        desk.fault(None)
        assert reader.poll_once().kind is CardEventKind.NO_CARD  # nothing half-read is kept
        assert reader.current_card is None
    finally:
        reader.close()
    # Closing the poller closes the port it opened.
    assert desk.calls()[-1] == "SDT_ClosePort 1001"


def test_the_port_is_probed_usb_first_then_serial(sdt_library, desk):
    (desk.folder / "ports").write_text("3\n")
    library = SdtLibrary(sdt_library)
    assert probe_port(library) == 3
    opened = [int(c.split()[1]) for c in desk.calls() if c.startswith("SDT_OpenPort")]
    assert opened == [*range(1001, 1017), 1, 2, 3]


def test_no_reader_on_any_port(sdt_library, desk):
    (desk.folder / "ports").write_text("")
    with pytest.raises(ReaderConnectionError, match="未找到身份证读卡器"):
        open_sdt_reader(sdt_library)
    with pytest.raises(ReaderConnectionError, match="USB端口 1002"):
        SdtReader(sdt_library, 1002)


def test_a_broken_sam_is_reported(sdt_library, desk):
    desk.fault("sam_fail")
    with SdtReader(sdt_library, 1001) as reader, pytest.raises(SamStatusError) as info:
        reader.sam_status()
    assert info.value.code == 0x60 and "重新插拔读卡器" in info.value.message


def test_a_missing_or_foreign_library_is_refused_in_chinese(tmp_path):
    with pytest.raises(ReaderConnectionError, match="找不到身份证读卡器驱动库"):
        SdtLibrary(tmp_path / "libsdtapi.so")
    not_a_library = tmp_path / "libsdtapi.so"
    not_a_library.write_bytes(b"MZ not an ELF file")
    with pytest.raises(ReaderConnectionError, match="无法加载身份证读卡器驱动库"):
        SdtLibrary(not_a_library)
    libc = Path("/lib/x86_64-linux-gnu/libc.so.6")
    other = libc if libc.exists() else Path(shutil.which("cc")).resolve()
    with pytest.raises(ReaderConnectionError, match="不是标准的身份证读卡器接口库"):
        SdtLibrary(other)


def test_the_library_s_own_photo_decoder_is_used(sdt_library, desk):
    card = sample_card("resident_longterm")
    decoder = library_photo_decoder(sdt_library)
    assert decoder.available and decoder.name == "libsdtapi.so"
    bmp = decoder.decode(card.photo_wlt)
    assert bmp[:2] == b"BM" and len(bmp) == BMP_SIZE
    assert bmp[54] == card.photo_wlt[0]  # the library's pixels, not a placeholder


def test_cli_reads_a_card_through_the_library(sdt_library, desk, capsys, tmp_path):
    card = sample_card("resident_xinxiang")
    desk.place(card)
    photo = tmp_path / "photo.bmp"
    assert main(["idcard", "read", "--sdt", str(sdt_library), "--json", "--photo", str(photo)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id_number"] == card.id_number and data["name"] == card.name
    assert photo.read_bytes()[:2] == b"BM"


def test_cli_without_a_card_and_with_a_wrong_port(sdt_library, desk, capsys):
    assert main(["idcard", "read", "--sdt", str(sdt_library)]) != 0
    assert "未检测到证件" in capsys.readouterr().err
    assert main(["idcard", "read", "--sdt", str(sdt_library), "--sdt-port", "7"]) != 0
    err = capsys.readouterr().err
    assert "串口端口 7" in err and "Traceback" not in err

