"""The online application path of the scripted acceptance: an application of the card's holder
put in the local worklist as the platform's sync does, then accepted through the real widgets
(the bench and the tests count its navigation actions).

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import Any

from counter_app.application import Application
from ui.acceptance.demo_input import Choices, demo_application
from ui.acceptance.script import AcceptanceScript


def store_online_application(window: Any, platform_id: str, card: Any) -> Application:
    """Put a demo online application of the card's holder into the local worklist (as the
    platform's sync does); returns the application."""
    from counter_app.application import application_to_dict
    from counter_app.sync.worklist import store_worklist

    online = demo_application()
    a = online.applicant
    a.name, a.sex, a.birth_date, a.id_number = card.name, card.sex_text, card.birth_date.isoformat(), card.id_number
    store_worklist(window, [{"platform_id": platform_id, "approved_on": "2026-12-01",
                             "application": application_to_dict(online)}])
    return online


def run_online(script: AcceptanceScript, hub: Any, card: Any) -> str:
    """An online application from the worklist, the applicant bringing the card: items, choices and
    the form come from the platform, the clerk checks and goes on (live camera, signature and
    rating on the applicant's screen)."""
    w = script.w
    script.ready()
    hub.place_card_data(card)
    script.wait(lambda: w.session.card is not None, "读卡")
    script.idle()
    script.next_step("items")
    online = w.session.app
    script.choose(Choices(retirement=online.retirement_type, items=tuple(online.items),
                          intention=online.veteran_affairs.intention, household=online.hukou.household_type,
                          family_mode=online.hukou.family_mode, restore_elsewhere=online.hukou.restore_elsewhere,
                          pension=online.pension.choice, medical=online.medical.choice))
    script.next_step("form")
    # what only the counter knows: the 兵役登记介绍信 is the service center's to hand over
    script.fill_form({"veteran_affairs.reserve_letter": "本中心已开具并当面交申请人"} if online.has_item(11) else {})
    script.next_step("materials")
    script.walk_to("rating")              # materials → photo → sign → print/scan → submit
    script.rate("满意")
    return w.session.case_id
