"""Status enums keep the stored text they replace (rows written before them must still read)."""
from __future__ import annotations

import json

from counter_app.statuses import DeviceState, DrainStop, OutboxStatus


def test_outbox_statuses_are_the_stored_strings():
    assert [s.value for s in OutboxStatus] == ["waiting", "acked", "quarantined"]
    assert OutboxStatus("acked") is OutboxStatus.ACKED and OutboxStatus.ACKED == "acked"
    assert json.dumps({"status": OutboxStatus.WAITING}) == '{"status": "waiting"}'
    assert {"acked": 3}.get(OutboxStatus.ACKED) == 3  # counts grouped by the raw column


def test_only_network_trouble_is_retried_later():
    assert {s for s in DrainStop if s.retry_later} == {DrainStop.OFFLINE, DrainStop.BUSY}


def test_device_states_have_a_label_and_a_colour_level():
    assert [(s.value, s.label, s.level) for s in DeviceState] == [
        ("ready", "就绪", "ok"), ("busy", "忙", "warn"), ("not_connected", "未连接", "bad"), ("error", "故障", "bad")]
