"""The department clock: how each joint item moves through its department's statuses.

When a case arrives every item is 已推送; the clock then schedules, per item, 受理 (or 不予受理),
审核通过 (or 审核不通过) and 办结 — for the social security card (item 8) 制卡中, 已寄出, 已领取
instead of 办结 — each after about ``step_seconds`` (uniform ×0.5–1.5). Items wait for the items
the scheme puts before them (户口登记 before 身份证, 社保, 医保): when the prerequisite fails the
dependent item is 不予受理 with the reason. The schedule is drawn from a generator seeded by the
business key, so a given case always gets the same story, and stored; ``PlatformStore.advance``
applies the steps whose time has come.

The clock's "now" is real time plus an offset that tests (and demos) may advance.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import random
import threading
from dataclasses import dataclass

from counter_app.clock import CHINA_TZ
from counter_app.lifecycle import ItemStatus
from counter_app.scheme import ITEMS, Department

NOT_ACCEPTED_P = 0.05
DISAPPROVED_P = 0.06

# Reasons a department gives, in its own words (synthetic, but the kind the scheme's departments give).
NOT_ACCEPTED_REASONS: dict[Department, tuple[str, ...]] = {
    Department.VA: ("退出现役证件信息与档案记载不一致，请申请人携带原件到服务中心核对。",),
    Department.PS: ("拟落户地址不在本派出所辖区，请改选拟落户地公安派出所后重新申请。",
                    "户口注销证明信息不全，请补充原户籍地公安机关出具的证明。"),
    Department.HRSS: ("申请人已在外省参加社会保险，请先办理关系转移。",),
    Department.MI: ("申请人已在其他统筹区参保，请先办理参保关系转移。",),
    Department.PAFD: ("申请人未到县级兵役机关现场登记，请携带兵役登记介绍信前往办理。",),
}
DISAPPROVED_REASONS: dict[Department, tuple[str, ...]] = {
    Department.VA: ("社会保障卡金融功能未激活，一次性经济补助金暂缓发放，请激活后告知。",),
    Department.PS: ("房屋产权信息与不动产登记记录不符，请核对房屋产权证明。",
                    "户主身份信息核验不通过，请提供户主居民身份证原件。"),
    Department.HRSS: ("照片不符合社保卡制卡要求（须白底、免冠、358×441像素），请重新采集。",
                      "发卡银行信息有误，请申请人到银行网点核对。"),
    Department.MI: ("缴费起止时间与转移凭证记载不一致，请核对军人退役医疗保险个人账户转移凭证。",),
    Department.PAFD: ("预备役登记信息与兵役档案不一致，请申请人到县级兵役机关核对。",),
}


@dataclass(frozen=True)
class PlannedStep:
    item: int
    status: ItemStatus
    at: _dt.datetime
    note: str = ""


class DepartmentClock:
    """Real time plus an adjustable offset. Thread-safe."""

    def __init__(self, step_seconds: float = 30.0):
        if step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        self.step_seconds = float(step_seconds)
        self._offset = _dt.timedelta()
        self._lock = threading.Lock()

    def now(self) -> _dt.datetime:
        with self._lock:
            offset = self._offset
        return _dt.datetime.now(_dt.timezone.utc) + offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += _dt.timedelta(seconds=seconds)


def case_rng(business_key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(business_key.encode()).digest()[:8], "big"))


def plan_items(business_key: str, items: list[int], received_at: _dt.datetime, step_seconds: float) -> list[PlannedStep]:
    rng = case_rng(business_key)

    def later(t: _dt.datetime, mult: float = 1.0) -> _dt.datetime:
        return t + _dt.timedelta(seconds=step_seconds * mult * rng.uniform(0.5, 1.5))

    steps: list[PlannedStep] = []
    # item -> (succeeded, time the dependents may start)
    outcome: dict[int, tuple[bool, _dt.datetime]] = {}
    for n in sorted(items):
        spec = ITEMS[n]
        dept = spec.department
        preds = [p for p in spec.after if p in outcome]
        start = max([received_at] + [outcome[p][1] for p in preds])
        failed = [p for p in preds if not outcome[p][0]]
        if failed:
            t = later(start, 0.3)
            steps.append(PlannedStep(n, ItemStatus.NOT_ACCEPTED, t,
                                     f"前置事项“{ITEMS[failed[0]].short}”未办结，本事项暂无法办理，请办结后重新申请。"))
            outcome[n] = (False, t)
            continue
        mult = 3.0 if n == 7 else (0.3 if n == 5 else 1.0)  # 7: by fund arrival; 5: on the spot
        t = later(start, mult)
        if rng.random() < NOT_ACCEPTED_P:
            steps.append(PlannedStep(n, ItemStatus.NOT_ACCEPTED, t, rng.choice(NOT_ACCEPTED_REASONS[dept])))
            outcome[n] = (False, t)
            continue
        steps.append(PlannedStep(n, ItemStatus.ACCEPTED, t))
        t = later(t, mult)
        if rng.random() < DISAPPROVED_P:
            steps.append(PlannedStep(n, ItemStatus.DISAPPROVED, t, rng.choice(DISAPPROVED_REASONS[dept])))
            outcome[n] = (False, t)
            continue
        steps.append(PlannedStep(n, ItemStatus.APPROVED, t))
        if n == 8:
            t = later(t)
            steps.append(PlannedStep(n, ItemStatus.CARD_MAKING, t))
            done_at = t
            t = later(t, 2)
            steps.append(PlannedStep(n, ItemStatus.MAILED, t, "社会保障卡已通过邮政寄出（证到付费）。"))
            t = later(t, 2)
            steps.append(PlannedStep(n, ItemStatus.COLLECTED, t))
            outcome[n] = (True, done_at)
        else:
            t = later(t, mult)
            steps.append(PlannedStep(n, ItemStatus.COMPLETED, t))
            outcome[n] = (True, t)
    return steps


LETTER_MISSING = "缺少盖章的《落户介绍信》扫描件：户口登记、居民身份证申领暂不推送公安部门，待窗口回传扫描件后推送。"


def sms_for_events(case_no: str, events) -> list[dict]:
    """The SMS the platform sends for these item events (方案: "平台发送短信通知申请人"): each result,
    the 户口登记 result with what to do next, the 社保卡 with the activation reminder. No personal data:
    the applicant's phone number is the addressee, the text names only the case."""
    out = []
    for e in events:
        item, status = e.item, e.to_status
        title = ITEMS[item].title
        if item == 4 and status == ItemStatus.COMPLETED.value:
            kind, text = "hukou_result", (f"您的户口登记（退役军人恢复户口）已办结（办件{case_no}）。请携带《居民户口簿》到户口所在地"
                                          "公安派出所打印本人户口页，并在《常住人口登记表》签字确认。")
        elif item == 8 and status == ItemStatus.MAILED.value:
            kind, text = "card_result", (f"您的社会保障卡已制卡并寄出（办件{case_no}，证到付费）。收到后请本人携带身份证到发卡银行"
                                         "营业网点激活金融功能，以确保一次性经济补助金发放到位。")
        elif status == ItemStatus.COMPLETED.value:
            kind, text = "result", f"您申请的“{title}”已办结（办件{case_no}）。"
        elif status in (ItemStatus.NOT_ACCEPTED.value, ItemStatus.DISAPPROVED.value):
            verdict = "不予受理" if status == ItemStatus.NOT_ACCEPTED.value else "审核不通过"
            kind, text = "result", f"您申请的“{title}”{verdict}（办件{case_no}）：{e.note}"[:500]
        else:
            continue
        out.append({"at": e.at.astimezone(CHINA_TZ).isoformat(timespec="seconds"), "channel": "sms", "item": item, "kind": kind, "text": text})
    return out
