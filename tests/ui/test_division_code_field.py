"""Step 3's division codes: "由拟安置地自动识别" happens as the name is typed, not after a reload."""
from __future__ import annotations

from counter_app.scheme import FamilyMode, HouseholdType
from ui.acceptance.script import Choices


def _to_the_form(acceptance):
    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices(items=(1, 2, 4), household=HouseholdType.FAMILY, family_mode=FamilyMode.NEW_HOUSEHOLD,
                          pension=None, medical=None, intention=None))
    script.next_step("form")
    return widget, script, widget.step("form")


def test_the_placement_code_shows_as_the_place_is_typed(acceptance):
    widget, script, form = _to_the_form(acceptance)
    fields = form.fs.fields
    code = fields["applicant.placement_division"].widget
    script.type_text(fields["applicant.placement_place"].widget, "河南省新乡市红旗区")
    assert code.text() == "410702"                          # shown now, not the placeholder
    assert widget.session.app.applicant.placement_division == "410702"
    script.type_text(fields["applicant.placement_place"].widget, "河南省郑州市金水区")
    assert code.text() == "410105"                          # follows the place while it is the recognised code
    script.type_text(code, "410704")                        # the clerk's own code stays
    script.type_text(fields["applicant.placement_place"].widget, "河南省新乡市红旗区")
    assert code.text() == "410704"


def test_the_police_station_code_shows_as_the_station_is_typed(acceptance):
    widget, script, form = _to_the_form(acceptance)
    fields = form.fs.fields
    script.type_text(fields["hukou.police_station"].widget, "新乡市公安局红旗区分局东街派出所")
    assert fields["hukou.police_station_division"].widget.text() == "410702"
    assert widget.session.app.hukou.police_station_division == "410702"
