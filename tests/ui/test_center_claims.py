"""Two windows of one center at the shell: opening an online application claims it on the
reference platform (real HTTP on loopback), another window's claim refuses it with
"正在X号窗口受理", cancelling releases it; offline the clerk still works and is told. A walk-in is
checked against the province's open cases before it starts."""
from __future__ import annotations

import random
import socket

import pytest
import requests

from counter_app.sync.claims import ClaimedElsewhere, claim_entry
from counter_app.sync.client import PlatformClient
from counter_app.sync.worklist import fetch_worklist, worklist_entries
from tests.sync.conftest import enrol_seal_key
from tests.sync.helpers import CREDENTIAL, TOKEN, finalized_case
from ui.worklist import ONLINE, WorklistPage

B_TOKEN = "window-b-token-0002"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def platform(tmp_path):
    from refplatform.server import start_in_thread

    handle = start_in_thread(tmp_path / "platform", [CREDENTIAL, f"{B_TOKEN}@410702-02"], clock_seconds=3600)
    yield handle
    handle.stop()


@pytest.fixture
def online(ctx, platform, monkeypatch):
    """The test window (01) pointed at the platform with today's worklist fetched; B is window 02."""
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform.url)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    enrol_seal_key(platform, ctx.window)
    a = PlatformClient(platform.url, TOKEN, requests.Session())
    fetch_worklist(ctx.window, a, day=platform.clock.now().date())
    return {"a": a, "b": PlatformClient(platform.url, B_TOKEN, requests.Session()),
            "pid": worklist_entries(ctx.window)[0]["platform_id"]}


def _claimed_by(client: PlatformClient, pid: str) -> str | None:
    entry = next(e for e in client.worklist("410702")["entries"] if e["platform_id"] == pid)
    return (entry.get("claim") or {}).get("window_no")


def test_opening_claims_and_cancel_releases(ctx, online, main_window, qtbot):
    w = main_window()
    pid = online["pid"]
    w.open_online_application(pid)
    qtbot.waitUntil(lambda: w.acceptance is not None, timeout=15000)
    assert _claimed_by(online["b"], pid) == "01"
    with pytest.raises(ClaimedElsewhere) as refused:           # window 02 cannot take it now
        claim_entry(ctx.window, pid, client=online["b"])
    assert "正在01号窗口受理" in refused.value.message
    w.acceptance.confirm_cancel()
    qtbot.waitUntil(lambda: _claimed_by(online["b"], pid) is None, timeout=15000)
    qtbot.waitUntil(lambda: "已释放" in w.status.currentMessage(), timeout=5000)
    assert claim_entry(ctx.window, pid, client=online["b"])["window_no"] == "02"


def test_another_windows_claim_is_shown_on_the_row_and_refuses_to_open(ctx, online, main_window, qtbot):
    pid = online["pid"]
    claim_entry(ctx.window, pid, client=online["b"])           # window 02 opened it first
    w = main_window()
    w.open_online_application(pid)                             # the row still looked free here
    qtbot.waitUntil(lambda: w.findChild(object, "infoBox") is not None, timeout=15000)
    box = w.findChild(object, "infoBox")
    assert "正在02号窗口受理" in box.text() and w.acceptance is None
    box.accept()

    fetch_worklist(ctx.window, online["a"], day=None)          # the next worklist pull carries the claim
    page = WorklistPage(ctx)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    row = next(r for r in page.model.rows if r.kind == ONLINE and r.key == pid)
    index = page.model.rows.index(row)
    assert page.model.data(page.model.index(index, 4)) == "正在02号窗口受理"
    with qtbot.assertNotEmitted(page.open_online):
        page.open_row(row)
    assert "正在02号窗口受理" in page.message.text()


def test_offline_opening_works_locally_and_says_it_is_unclaimed(ctx, online, main_window, qtbot, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{_free_port()}")  # nothing listens
    w = main_window()
    w.open_online_application(online["pid"])
    qtbot.waitUntil(lambda: w.acceptance is not None, timeout=20000)
    assert w.acceptance.session.worklist_id == online["pid"]
    assert "未能在省平台认领" in w.status.currentMessage()


def _type_id_number(widget, qtbot, number: str) -> None:
    field = widget.step("identity").fs.fields["applicant.id_number"].widget
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, number)


def test_a_walk_in_is_refused_when_another_window_has_an_open_case(ctx, online, acceptance, platform, qtbot,
                                                                   tmp_path):
    from counter_app.config import load_settings
    from counter_app.services import open_window
    from counter_app.sync.backoff import RetryPolicy
    from counter_app.sync.outbox import OutboxDrainer

    home = tmp_path / "window-b"
    home.mkdir()
    settings = load_settings(home / "config.toml")
    settings.set("window_no", "02")
    settings.save()
    b = open_window(home)
    try:
        enrol_seal_key(platform, b)
        rec = finalized_case(b, random.Random(5))
        OutboxDrainer(b, online["b"], policy=RetryPolicy(base=0.02, cap=0.2, rng=random.Random(7))).drain()
    finally:
        b.close()
    widget, _script = acceptance()
    notes: list[tuple[str, str]] = []
    widget.step("identity").notify.connect(lambda text, level: notes.append((text, level)))
    _type_id_number(widget, qtbot, rec.application.applicant.id_number)
    identity = widget.step("identity")
    qtbot.waitUntil(lambda: identity.session.duplicate_case_no == rec.case_no, timeout=15000)
    assert rec.case_no in identity.duplicate.text()
    assert any("02号窗口受理" in text and level == "error" for text, level in notes)
    assert any(rec.case_no in p for p in identity.blockers())       # the step does not go on


def test_a_walk_in_offline_says_it_could_not_be_checked_and_goes_on(ctx, acceptance, qtbot, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    widget, _script = acceptance()
    notes: list[tuple[str, str]] = []
    identity = widget.step("identity")
    identity.notify.connect(lambda text, level: notes.append((text, level)))
    _type_id_number(widget, qtbot, "110101199003074514")
    qtbot.waitUntil(lambda: any("未能向省平台核对" in t for t, _ in notes), timeout=20000)
    assert identity.session.duplicate_case_no is None
    assert not any("未办结的办件：" in p for p in identity.blockers())
