"""An acceptance made while the platform is unreachable, sent when it comes back.

The window is pointed at a loopback port where nothing listens; the acceptance completes (data
sharing cannot be asked, the clerk sets the values by hand, nothing typed is lost); the case and the
rating wait in the local queue. Then the reference platform (``refplatform``) is started
on that port in a thread, the clerk presses 立即上报, and the sync worker delivers both.
"""
from __future__ import annotations

import random
import socket

from counter_app.lifecycle import CaseState

TOKEN = "acceptance-window-token-01"
CREDENTIAL = f"{TOKEN}@410702-01"  # the test window's center and window


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_acceptance_is_queued_and_synced_when_the_platform_returns(acceptance, ctx, qtbot, monkeypatch,
                                                                           tmp_path):
    from refplatform.server import start_in_thread
    from counter_app.sync import SyncWorker
    from counter_app.sync.backoff import RetryPolicy
    from ui.acceptance.script import Choices, demo_application, form_values
    from ui.sync_bridge import SyncBridge

    port = _free_port()
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    worker = SyncWorker(ctx.window, policy=RetryPolicy(base=0.05, cap=0.3, rng=random.Random(3)),
                        pull_interval=3600)
    bridge = SyncBridge(worker)
    ctx.sync = bridge
    bridge.start()
    platform = None
    try:
        qtbot.waitUntil(lambda: bridge.last_status is not None and bridge.last_status.online is False, timeout=15000)
        widget, script = acceptance()
        choices = Choices(items=(1, 2, 3), household=None, family_mode=None, pension=None, medical=None)
        script.identity_from_card()
        script.next_step("items")
        script.choose(choices)
        script.next_step("form")
        form = widget.step("form")
        assert "未连接省平台" in form.ds_status.text()      # offline: the clerk decides from paper proof
        script.fill_form(form_values(demo_application(), choices))
        script.next_step("materials")
        script.tick_materials()
        script.next_step("photo")
        script.next_step("review")
        script.sign()
        script.next_step("print")
        script.scan_signed_form()
        script.next_step("submit")
        script.submit()
        submit = widget.step("submit")
        qtbot.waitUntil(lambda: "未连接省平台" in submit.sync_state.text(), timeout=10000)
        script.next_step("rating")
        with qtbot.waitSignal(widget.finished, timeout=10000) as finished:
            script.rate("非常满意")             # the applicant's rating ends the acceptance
        case_id = finished.args[0]
        record = ctx.window.cases.get(case_id)
        assert record.state is CaseState.QUEUED and record.outbox["status"] == "waiting"

        # The platform comes back; the clerk presses 立即上报 (the shell's sync_now does the same).
        platform = start_in_thread(tmp_path / "platform", [CREDENTIAL], port=port, clock_seconds=3600)
        worker.retry_now()
        bridge.pull_now()
        qtbot.waitUntil(lambda: ctx.window.cases.get(case_id).outbox["status"] == "acked", timeout=30000)
        received = platform.store.list_cases()["items"]
        assert [c["case_no"] for c in received] == [record.case_no]
        assert received[0]["attachments_held"] is True
        worker.pull_now()
        qtbot.waitUntil(lambda: any(r["level"] == "非常满意" for r in platform.store.ratings()), timeout=30000)
        qtbot.waitUntil(lambda: bridge.last_status is not None and bridge.last_status.online is True
                        and bridge.last_status.waiting == 0, timeout=15000)
    finally:
        bridge.stop()
        ctx.sync = None
        if platform is not None:
            platform.stop()


def test_data_sharing_values_are_fetched_from_the_platform_when_online(acceptance, ctx, qtbot, monkeypatch, tmp_path):
    import datetime as _dt

    from refplatform.server import start_in_thread
    from refplatform.synthetic import data_sharing_answers
    from counter_app.scheme import FamilyMode, HouseholdType
    from counter_app.sync import SyncWorker
    from ui.acceptance.script import Choices
    from ui.sync_bridge import SyncBridge

    platform = start_in_thread(tmp_path / "platform", [CREDENTIAL], clock_seconds=3600)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform.url)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    bridge = SyncBridge(SyncWorker(ctx.window, pull_interval=3600))
    ctx.sync = bridge
    bridge.start()
    try:
        qtbot.waitUntil(lambda: bridge.last_status is not None and bridge.last_status.online is True, timeout=15000)
        widget, script = acceptance()
        script.identity_from_card()
        script.next_step("items")
        script.choose(Choices(items=(1, 2, 4), household=HouseholdType.FAMILY, family_mode=FamilyMode.NEW_HOUSEHOLD,
                              pension=None, medical=None, intention=None))
        script.next_step("form")
        form = widget.step("form")
        qtbot.waitUntil(lambda: "已通过数据共享核验" in form.ds_status.text(), timeout=15000)
        expected = data_sharing_answers("410702198506120039", ["henan_hukou_before_enlistment", "hukou_cancelled",
                                                               "property_record", "social_security_bank_account"],
                                        _dt.datetime.now(_dt.timezone.utc))
        ds = widget.session.app.data_sharing
        assert ds.henan_hukou_before_enlistment is expected["henan_hukou_before_enlistment"]["value"]
        shown = form.fs.fields["data_sharing.henan_hukou_before_enlistment"].widget.currentText()
        assert shown == ("是" if expected["henan_hukou_before_enlistment"]["value"] else "否")
        bank = expected["social_security_bank_account"]
        if bank["found"]:
            assert widget.session.app.veteran_affairs.bank_account == bank["account"]
        prop = expected["property_record"]
        assert ds.property_verified is bool(prop["found"])
    finally:
        bridge.stop()
        ctx.sync = None
        platform.stop()
