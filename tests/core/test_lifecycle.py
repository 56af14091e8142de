from __future__ import annotations

import datetime as dt

import pytest

from counter_app.case_number import CaseNumber, CaseNumberError
from counter_app.lifecycle import (
    CASE_TRANSITIONS, CaseState, IllegalTransition, ItemStatus, check_case_transition, check_item_transition, item_path,
)

LEGAL = [(a, b) for a, targets in CASE_TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a in CaseState for b in CaseState if b not in CASE_TRANSITIONS[a]]


@pytest.mark.parametrize("a,b", LEGAL)
def test_legal_case_transitions(a, b):
    check_case_transition(a, b)


@pytest.mark.parametrize("a,b", ILLEGAL)
def test_illegal_case_transitions_are_refused_in_chinese(a, b):
    with pytest.raises(IllegalTransition) as err:
        check_case_transition(a, b)
    assert a.title in err.value.message and b.title in err.value.message


def test_signed_case_can_only_be_queued():
    assert CASE_TRANSITIONS[CaseState.SIGNED] == {CaseState.QUEUED}


def test_happy_path_reaches_completed():
    path = [CaseState.DRAFT, CaseState.IDENTITY_VERIFIED, CaseState.MATERIALS_COMPLETE, CaseState.SIGNED,
            CaseState.QUEUED, CaseState.ACKNOWLEDGED, CaseState.IN_PROGRESS, CaseState.COMPLETED]
    for a, b in zip(path, path[1:]):
        check_case_transition(a, b)


def test_certificate_statuses_only_for_the_card_item():
    check_item_transition(8, ItemStatus.APPROVED, ItemStatus.CARD_MAKING)
    with pytest.raises(IllegalTransition):
        check_item_transition(4, ItemStatus.APPROVED, ItemStatus.CARD_MAKING)


def test_department_cannot_skip_acceptance():
    with pytest.raises(IllegalTransition):
        check_item_transition(4, ItemStatus.PUSHED, ItemStatus.APPROVED)


def test_item_path_fills_in_intermediate_statuses():
    assert item_path(8, ItemStatus.MAILED) == [ItemStatus.PENDING_PUSH, ItemStatus.PUSHED, ItemStatus.ACCEPTED,
                                               ItemStatus.APPROVED, ItemStatus.CARD_MAKING, ItemStatus.MAILED]
    assert item_path(4, ItemStatus.NOT_ACCEPTED)[-2:] == [ItemStatus.PUSHED, ItemStatus.NOT_ACCEPTED]


def test_case_number_round_trip_and_check_character():
    n = CaseNumber("410702", "03", dt.date(2026, 11, 29), 7)
    assert str(n).startswith("410702-03-20261129-0007-")
    assert CaseNumber.parse(str(n)) == n == CaseNumber.parse(n.compact)
    wrong = str(n)[:-1] + ("0" if str(n)[-1] != "0" else "1")
    with pytest.raises(CaseNumberError, match="校验位"):
        CaseNumber.parse(wrong)


def test_a_single_mistyped_digit_is_caught():
    n = CaseNumber("410702", "03", dt.date(2026, 11, 29), 7).compact
    for i in range(20):
        d = int(n[i])
        typo = n[:i] + str((d + 1) % 10) + n[i + 1:]
        with pytest.raises(CaseNumberError):
            CaseNumber.parse(typo)


@pytest.mark.parametrize("args", [("41070", "01", 1), ("410702", "00", 1), ("410702", "01", 0), ("410702", "01", 10000)])
def test_bad_case_number_parts(args):
    center, window, seq = args
    with pytest.raises(CaseNumberError):
        CaseNumber(center, window, dt.date(2026, 1, 1), seq)
