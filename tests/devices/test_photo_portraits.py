"""The real-portrait set (``tests/devices/portraits.py``) through the CNN pipeline: every picture
is made into a compliant photo or refused with a fair reason — never refused for a wrong cause,
never a photo from a picture without a face — and every photo made is measured again by an
independent detector (the Haar cascades) and by plain pixel tests."""
from __future__ import annotations

import io
from collections import Counter
from functools import lru_cache

import cv2
import numpy as np
import pytest
from PIL import Image

from devices.photo import DEFAULT_LIMITS, make_compliant_photo
from devices.photo.detect import FaceDetector
from devices.photo.haar_pipeline import measure_output_haar
from tests.devices import portraits

LIM = DEFAULT_LIMITS
SAMPLES = {s.name: s for s in portraits.samples()}
# The Haar face box is wider than the cheek-to-cheek width the pipeline sets (1.0–1.25× on these
# portraits), so its reading is held to the rule's band widened by that factor.
HAAR_BOX_RATIO = (0.95, 1.3)


@lru_cache(maxsize=None)
def outcome(name: str):
    sample = SAMPLES[name]
    result = make_compliant_photo(sample.make())
    return result, portraits.grade(sample, result)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_picture_is_made_or_refused_for_its_real_cause(name):
    result, grade = outcome(name)
    first = result.failures[0] if result.failures else None
    assert grade != portraits.WRONG, (SAMPLES[name].expect, first and first.to_dict())
    if SAMPLES[name].expect == portraits.MADE:
        assert grade == portraits.MADE


def test_the_set_meets_the_acceptance_figures():
    grades = Counter(outcome(n)[1] for n in SAMPLES)
    expected_made = [n for n, s in SAMPLES.items() if s.expect == portraits.MADE]
    made = sum(outcome(n)[1] == portraits.MADE for n in expected_made)
    assert len(expected_made) >= 25
    assert made / len(expected_made) >= 0.95
    assert grades[portraits.WRONG] == 0
    non_faces = [n for n, s in SAMPLES.items() if not s.face]
    assert len(non_faces) >= 10 and not any(outcome(n)[0].ok for n in non_faces)
    assert all(outcome(n)[0].checks[0].name == "face_found" and outcome(n)[0].image is None for n in non_faces)


@pytest.mark.parametrize("variant", ["original", "frame_1080p_brick", "tilt_minus_5", "darker_0.6"])
def test_the_officer_in_a_cap_is_refused_naming_the_cap(variant):
    result, _ = outcome(f"grace_hopper_cap/{variant}")
    assert not result.ok
    assert [c.name for c in result.failures] == ["no_hat"]
    assert "帽子" in result.reason and "免冠" in result.reason
    # glasses without glare are not a reason, and neither is the uniform: that is the clerk's tick
    assert next(c for c in result.checks if c.name == "glasses_glare").passed
    assert "no_uniform" in {c.name for c in result.clerk_checks}


def test_open_mouth_turned_head_and_tilt_name_their_causes():
    speaking, _ = outcome("obama_speaking/original")
    assert speaking.failures[0].name == "mouth_closed" and "请闭上嘴" in speaking.reason
    assert {"mouth_closed", "head_turn"} <= {c.name for c in speaking.failures}
    turned, _ = outcome("obama_turned/original")
    assert turned.failures[0].name == "head_turn" and "把头放正" in turned.reason
    leaning, _ = outcome("biden_leaning/original")
    assert leaning.failures[0].name == "head_tilt" and abs(leaning.failures[0].value) > LIM.max_roll_deg
    upright, _ = outcome("biden_upright/original")
    assert upright.ok and abs(next(c for c in upright.checks if c.name == "head_tilt").value) < 2


def test_a_broad_smile_is_made_but_handed_to_the_clerk():
    result, _ = outcome("obama_official/original")
    assert result.ok
    gap = next(c for c in result.checks if c.name == "mouth_closed").value
    assert LIM.mouth_gap_for_clerk < gap <= LIM.max_mouth_gap
    tick = next(c for c in result.clerk_checks if c.name == "natural_expression")
    assert tick.value == pytest.approx(gap) and "露齿" in tick.reason


MADE = sorted(n for n, s in SAMPLES.items() if s.expect == portraits.MADE)


@pytest.mark.parametrize("name", MADE)
def test_photos_made_pass_an_independent_measurement(name):
    result, _ = outcome(name)
    assert result.ok
    pil = Image.open(io.BytesIO(result.jpeg))
    assert pil.format == "JPEG" and pil.size == (358, 441) and pil.mode == "RGB"
    assert tuple(round(v) for v in pil.info["dpi"]) == (350, 350)
    assert LIM.min_bytes <= len(result.jpeg) <= LIM.max_bytes

    out = cv2.imdecode(np.frombuffer(result.jpeg, np.uint8), cv2.IMREAD_COLOR)
    darkest = out.min(axis=2)
    # white at the border: the top rows, both corners, the side strips down to the eyes
    assert (darkest[:LIM.crown_min, :] >= 235).mean() >= 0.99
    assert darkest[:10, :10].min() >= 235 and darkest[:10, -10:].min() >= 235
    assert (darkest[:200, :8] >= 235).mean() >= 0.97 and (darkest[:200, -8:] >= 235).mean() >= 0.97
    # and around the hair: a ring 4–12 px outside the head's outline holds no old background
    person = (darkest < 250).astype(np.uint8)
    head = person[:200]
    ring = cv2.dilate(head, np.ones((25, 25), np.uint8)) - cv2.dilate(head, np.ones((9, 9), np.uint8))
    assert (darkest[:200][ring == 1] >= 235).mean() >= 0.97

    geo = measure_output_haar(out, LIM, FaceDetector())
    assert geo.face_width is not None, "the independent detector finds no face in the photo"
    assert LIM.face_width_min * HAAR_BOX_RATIO[0] <= geo.face_width <= LIM.face_width_max * HAAR_BOX_RATIO[1]
    assert LIM.crown_min <= result.geometry.crown <= LIM.crown_max
    if geo.eye_line_from_bottom is not None:            # the eye cascade misses some eyes
        assert geo.eye_line_from_bottom >= LIM.eye_line_min_from_bottom - 3
        assert LIM.eye_center_x_min - 6 <= geo.eye_center_x <= LIM.eye_center_x_max + 6
    # the face box is centred left to right
    assert abs(geo.face_width / 2 + measure_box_left(out) - 179) < 20


def measure_box_left(out: np.ndarray) -> int:
    gray = cv2.equalizeHist(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY))
    box = FaceDetector().face_boxes(gray, min_face_px=140, scale_factor=1.05, min_neighbors=4, max_face_px=330)[0]
    return box[0]
