"""A day at a counter, as data: what ``ui screenshots`` and the shell's tests show.

Everything goes through the same core calls the application makes (``CaseService.create_draft``
/ ``finalize`` / ``record_item_status`` / ``start_correction``, ``sync.worklist.store_worklist``,
``sync.ratings.record_rating``); only two things are simulated because they happen on the
provincial platform: its acknowledgement of a case (what the sync worker records when the
platform answers) and the departments' progress reports.

- an online application approved by county VA, waiting at the window;
- two drafts (one walk-in half typed, one complete);
- cases accepted today (on time / at risk by the working-day SLA);
- cases accepted weeks ago with department progress, one overdue;
- a correction waiting for a supervisor; ratings.

Blocks (database, encryption, image synthesis): build it before the window opens, or on a worker.
"""
from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass, field

from counter_app.cases import Actor, CaseError
from counter_app.clock import CHINA_TZ
from counter_app.statuses import OutboxStatus
from counter_app.sync.ratings import record_rating
from counter_app.sync.worklist import store_worklist

CLERK = Actor("clerk01", "clerk")
CLERK2 = Actor("clerk02", "clerk")


@dataclass
class Scene:
    online_ids: list[str] = field(default_factory=list)
    draft_ids: list[str] = field(default_factory=list)
    today_ids: list[str] = field(default_factory=list)
    past_ids: list[str] = field(default_factory=list)
    overdue_id: str = ""
    correction_id: str = ""
    progressed_id: str = ""
    at_risk_id: str = ""


def _accept(window, rng: random.Random, actor: Actor, *, on: _dt.datetime | None = None,
            items: list[int] | None = None) -> str:
    """A finalized, queued case (accepted ``on`` that moment; now when None)."""
    from counter_app.samples import make_application
    from app.demo.seed import complete_application

    cases = window.cases
    saved_clock = cases.clock
    if on is not None:
        cases.clock = lambda: on
    try:
        for _ in range(5):
            app = make_application(rng, today=(on or _dt.datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).date())
            if items is not None:
                app.items = sorted(items)
            try:
                rec = cases.create_draft(app, actor)
            except CaseError:  # the same synthetic person twice: draw another
                continue
            app = complete_application(window, rec.application, rng, scans=False)
            cases.finalize(rec.id, app, actor)
            cases.confirm_shown(rec.id)
            return rec.id
        raise RuntimeError("could not create a distinct demo applicant")
    finally:
        cases.clock = saved_clock


def platform_acknowledged(window, case_id: str, at: _dt.datetime) -> None:
    """What the sync worker records when the platform confirms receipt (simulated here)."""
    from counter_app.store.models import CaseRow, OutboxEntry
    from sqlalchemy import select

    with window.sessions.begin() as s:
        row = s.get(CaseRow, case_id)
        entry = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == case_id)).scalar_one()
        entry.status, entry.acked_at, entry.attempts = OutboxStatus.ACKED, at, 1
        entry.receipt = {"platform_case_id": f"HN-{row.case_no}", "received_at": at.isoformat()}
        window.cases.mark_acknowledged(s, row)


def _at_risk_acceptance(window, today: _dt.date, items: list[int]) -> _dt.datetime:
    """A morning, going back from today, on which a case of ``items`` would be at risk today."""
    from counter_app.workdays import SlaState, plan_deadlines, sla_state

    day = today
    for _ in range(40):
        day -= _dt.timedelta(days=1)
        plan = plan_deadlines(window.calendar, day, items)
        if any(sla_state(window.calendar, plan[n], today) is SlaState.AT_RISK for n in items):
            break
    return _dt.datetime.combine(day, _dt.time(10), CHINA_TZ)


def populate(window, *, seed: int = 11, today: _dt.date | None = None) -> Scene:
    from counter_app.application import application_to_dict
    from counter_app.samples import make_application
    from counter_app.lifecycle import ItemStatus

    rng = random.Random(seed)
    scene = Scene()
    now = _dt.datetime.now(_dt.timezone.utc)
    today = today or now.astimezone(CHINA_TZ).date()

    # An online application approved by county VA, as the sync worker stores it.
    entries = []
    for n in range(2):
        app = make_application(rng, today=today)
        app.source = "online"
        app.online_application_id = f"HN{today:%Y%m%d}{n + 1:04d}"
        entries.append({"platform_id": app.online_application_id, "approved_on": today.isoformat(),
                        "application": application_to_dict(app)})
    store_worklist(window, entries)
    scene.online_ids = [e["platform_id"] for e in entries]

    # Accepted weeks ago, acknowledged by the platform, departments reporting back.
    long_ago = now - _dt.timedelta(days=30)
    accepted_at: list[_dt.datetime] = []
    for i, items in enumerate(([1, 4, 5, 6, 8, 9, 10, 11], [1, 4, 6, 8, 9], [1, 4, 11])):
        at = long_ago + _dt.timedelta(days=i, hours=1)
        case_id = _accept(window, rng, CLERK if i % 2 == 0 else CLERK2, on=at, items=items)
        platform_acknowledged(window, case_id, at + _dt.timedelta(minutes=3))
        scene.past_ids.append(case_id)
        accepted_at.append(at)
    first, second, third = scene.past_ids
    step = accepted_at[0]
    for item, status in ((1, ItemStatus.COMPLETED), (11, ItemStatus.COMPLETED), (4, ItemStatus.COMPLETED),
                         (5, ItemStatus.COMPLETED), (6, ItemStatus.APPROVED), (8, ItemStatus.CARD_MAKING),
                         (9, ItemStatus.ACCEPTED), (10, ItemStatus.ACCEPTED)):
        step = step + _dt.timedelta(hours=20)
        window.cases.record_item_status(first, item, status, at=step)
    for n, item in enumerate((1, 4, 6, 8, 9)):
        window.cases.record_item_status(second, item, ItemStatus.COMPLETED,
                                        at=accepted_at[1] + _dt.timedelta(days=1 + n))
    # The third waits at the police station far beyond item 4's 10 working days: overdue.
    at = accepted_at[2]
    window.cases.record_item_status(third, 1, ItemStatus.COMPLETED, at=at + _dt.timedelta(hours=3))
    window.cases.record_item_status(third, 11, ItemStatus.COMPLETED, at=at + _dt.timedelta(hours=4))
    window.cases.record_item_status(third, 4, ItemStatus.ACCEPTED, at=at + _dt.timedelta(days=1),
                                    note="待核实原户籍注销信息")
    scene.progressed_id, scene.overdue_id = first, third

    # Accepted a few working days ago, one working day left: "at risk" (a case accepted today is
    # never at risk at once, not even with item 1's single working day).
    scene.at_risk_id = _accept(window, rng, CLERK2, on=_at_risk_acceptance(window, today, [6]), items=[6])
    platform_acknowledged(window, scene.at_risk_id, now)

    # Accepted today: "on time".
    scene.today_ids.append(_accept(window, rng, CLERK))
    on_time = _accept(window, rng, CLERK, items=[4, 6, 9])
    if 2 in window.cases.get(on_time).application.items:
        # 免申即享 item 2 (added for a 自主就业退役士兵) is registered by VA at the counter at once
        window.cases.record_item_status(on_time, 2, ItemStatus.COMPLETED, source="window", note="窗口当场登记")
    scene.today_ids.append(on_time)
    scene.today_ids.append(_accept(window, rng, CLERK2))

    # Drafts: a walk-in being typed, another complete but not yet signed.
    for complete in (False, True):
        app = make_application(rng, today=today)
        if not complete:
            app.applicant.phone = ""
            app.hukou.target_address = ""
        try:
            scene.draft_ids.append(window.cases.create_draft(app, CLERK).id)
        except CaseError:
            pass

    # A correction of an old case, waiting for a supervisor.
    try:
        scene.correction_id = window.cases.start_correction(second, CLERK2, "申请人联系电话登记有误，应更正").id
    except CaseError:
        scene.correction_id = ""

    record_rating(window, scene.today_ids[0], "非常满意")
    record_rating(window, scene.today_ids[1], "满意")
    record_rating(window, scene.today_ids[2], "不满意", "等候时间较长")
    window.cases.refresh_sla(today)
    return scene
