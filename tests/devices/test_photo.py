"""The 358×441 card photo, made from real photographs (scikit-image's astronaut portrait) and
checked on the output itself: size, dpi, file-size band, white background, and the geometry
measured again on the decoded JPEG by an independent detector (the Haar cascades, not the CNN
that made the photo)."""
from __future__ import annotations

import io
import json
from functools import lru_cache

import cv2
import numpy as np
import pytest
from PIL import Image

from devices.photo import DEFAULT_LIMITS, PhotoLimits, load_limits, make_compliant_photo
from devices.photo.detect import FaceDetector
from devices.photo.haar_pipeline import measure_output_haar
from devices.photo.jpeg import read_jfif_density, set_jfif_density
from tests.devices import images

LIM = DEFAULT_LIMITS


@lru_cache(maxsize=None)
def natural_roll() -> float:
    """The astronaut's own head roll in the original picture (she tilts her head slightly)."""
    face = FaceDetector().find_faces(images.astronaut())[0]
    return face.roll_deg


def variant(name: str) -> np.ndarray:
    a = images.astronaut()
    table = {
        "original": lambda: a,
        "scale_0.75": lambda: images.scaled(a, 0.75),
        "scale_2": lambda: images.scaled(a, 2.0),
        "scale_3.5": lambda: images.scaled(a, 3.5),
        "crop_head_and_shoulders": lambda: a[0:330, 100:360],
        "crop_right_part": lambda: a[:, 120:],
        "crop_with_margin_scaled": lambda: images.scaled(a[10:400, 60:420], 2.5),
        # rotations chosen relative to her natural roll, so the roll to correct is -6…+6°
        "roll_plus_6": lambda: images.rotated(a, -(6 - natural_roll())),
        "roll_minus_6": lambda: images.rotated(a, 6 + natural_roll()),
        "roll_plus_3_scaled": lambda: images.rotated(images.scaled(a, 1.6), -(3 - natural_roll())),
        "darker_0.55": lambda: images.exposed(a, 0.55),
        "darker_0.75": lambda: images.exposed(a, 0.75),
        "brighter_gamma": lambda: (255.0 * (a / 255.0) ** 0.8).astype(np.uint8),
        "in_1080p_frame": lambda: images.portrait_frame(1920, 1080, face_fraction=0.16),
        "grey_picture": lambda: cv2.cvtColor(a, cv2.COLOR_BGR2GRAY),
    }
    return table[name]()


@lru_cache(maxsize=None)
def result_for(name: str):
    return make_compliant_photo(variant(name))


GOOD = ["original", "scale_0.75", "scale_2", "scale_3.5", "crop_head_and_shoulders", "crop_right_part",
        "crop_with_margin_scaled", "roll_plus_6", "roll_minus_6", "roll_plus_3_scaled", "darker_0.55",
        "darker_0.75", "brighter_gamma", "in_1080p_frame", "grey_picture"]


def decoded(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("name", GOOD)
def test_real_portrait_gives_a_compliant_file(name):
    result = result_for(name)
    assert result.ok, [c.to_dict() for c in result.failures]
    assert [c for c in result.checks if not c.passed] == []

    # the file as the card maker's software reads it (Pillow, not our own parser)
    pil = Image.open(io.BytesIO(result.jpeg))
    assert pil.format == "JPEG"
    assert pil.size == (358, 441)
    assert pil.mode == "RGB"                          # 24-bit colour, even from a grey source
    assert tuple(round(v) for v in pil.info["dpi"]) == (350, 350)
    assert pil.info.get("jfif_unit") == 1             # dots per inch, not an aspect ratio
    assert LIM.min_bytes <= len(result.jpeg) <= LIM.max_bytes

    out = decoded(result.jpeg)
    darkest = out.min(axis=2)
    # pure white background: both top corners, the whole top edge, the side edges down to the eyes
    assert darkest[:10, :10].min() >= 235 and darkest[:10, -10:].min() >= 235
    assert (darkest[:LIM.crown_min, :] >= 235).mean() >= 0.99
    assert (darkest[:200, :6] >= 235).mean() >= 0.97 and (darkest[:200, -6:] >= 235).mean() >= 0.97

    # the geometry, measured again on the decoded output by an independent detector
    geo = measure_output_haar(out, LIM, FaceDetector())
    assert LIM.face_width_min <= geo.face_width <= LIM.face_width_max
    assert LIM.crown_min <= geo.crown <= LIM.crown_max
    assert geo.eye_line_from_bottom >= LIM.eye_line_min_from_bottom
    assert LIM.eye_center_x_min <= geo.eye_center_x <= LIM.eye_center_x_max
    assert abs(geo.roll_deg) <= 3.0                   # upright after correction


@pytest.mark.parametrize("name", ["roll_plus_6", "roll_minus_6"])
def test_small_roll_is_measured_and_corrected(name):
    result = result_for(name)
    source_roll = result.source_face.roll_deg
    assert 4.0 <= abs(source_roll) <= LIM.max_roll_deg      # the input really was tilted
    tilt = next(c for c in result.checks if c.name == "head_tilt")
    assert tilt.passed and tilt.value == pytest.approx(source_roll)
    assert abs(result.geometry.roll_deg) <= 3.0


def test_head_tilted_beyond_the_limit_is_refused():
    result = make_compliant_photo(images.rotated(images.astronaut(), -(14 - natural_roll())))
    assert not result.ok and result.jpeg is None
    assert result.failures[0].name == "head_tilt"
    assert "头部歪斜" in result.reason


@pytest.mark.parametrize("picture", [images.chelsea, images.coffee,
                                     lambda: cv2.cvtColor(__import__("skimage").data.rocket(), cv2.COLOR_RGB2BGR)])
def test_a_picture_without_a_person_is_refused_with_no_face(picture):
    result = make_compliant_photo(picture())
    assert not result.ok
    assert result.jpeg is None and result.image is None           # never cropped to something
    assert [c.name for c in result.checks] == ["face_found"]
    assert result.checks[0].value == 0
    assert "未检测到人脸" in result.reason


@pytest.mark.parametrize("gain, failing, words", [(0.25, "too_dark", "光线太暗"), (1.8, "over_exposed", "曝光过度")])
def test_bad_exposure_is_refused_with_its_measured_value(gain, failing, words):
    result = make_compliant_photo(images.exposed(images.astronaut(), gain))
    assert not result.ok
    failed = {c.name: c for c in result.failures}
    assert failing in failed and words in failed[failing].message
    # the other rules were still evaluated and reported
    assert {"face_width", "crown_position", "file_size"} <= {c.name for c in result.checks}


def test_blurred_portrait_is_refused():
    result = make_compliant_photo(cv2.GaussianBlur(images.astronaut(), (0, 0), 2.5))
    blur = next(c for c in result.checks if c.name == "blurred")
    assert not blur.passed and blur.value < LIM.min_sharpness
    sharp = next(c for c in result_for("original").checks if c.name == "blurred")
    assert sharp.value > 3 * LIM.min_sharpness
    assert not result.ok


def test_two_people_are_refused():
    a = images.astronaut()
    result = make_compliant_photo(np.hstack([a, a]))
    assert not result.ok
    assert result.failures[0].name == "single_face" and result.failures[0].value == 2
    assert "多张人脸" in result.reason


def test_shoulders_cut_off_by_the_picture_edge_are_refused():
    result = make_compliant_photo(images.astronaut()[0:200, :])
    body = next(c for c in result.checks if c.name == "body_in_frame")
    assert not body.passed and body.value > LIM.max_body_cut_fraction
    assert not result.ok


def test_a_face_cut_by_the_picture_edge_is_refused_as_incomplete():
    # the bottom edge runs through her chin: no photo can be made from that
    result = make_compliant_photo(images.astronaut()[0:172, :])
    assert not result.ok and result.failures[0].name == "face_complete"
    assert result.failures[0].value < 0.97
    assert "脸部没有完整出现在画面中" in result.reason


@pytest.mark.parametrize("bad", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((100, 100, 3), np.float32),
                                 np.zeros((10, 10, 3), np.uint8)])
def test_unreadable_input_is_a_failed_check_not_an_exception(bad):
    result = make_compliant_photo(bad)
    assert not result.ok and result.checks[0].name == "image_readable"
    assert "无法读取图像" in result.reason


def test_file_size_band_is_reached_by_reencoding():
    picture = images.astronaut()
    big = make_compliant_photo(picture, LIM.with_overrides(min_kb=30.0, max_kb=40.0))
    small = make_compliant_photo(picture, LIM.with_overrides(min_kb=8.0, max_kb=12.0))
    assert big.ok and small.ok
    assert 30 * 1024 <= len(big.jpeg) <= 40 * 1024 and big.quality > LIM.jpeg_quality
    assert 8 * 1024 <= len(small.jpeg) <= 12 * 1024 and small.quality < LIM.jpeg_quality


def test_other_numbers_come_from_the_limits_table(tmp_path):
    path = tmp_path / "henan.toml"
    path.write_text("[photo]\nface_width_max = 215\nface_width_target = 196\ncrown_target = 18\nmin_kb = 15\n",
                    encoding="utf-8")
    limits = load_limits(path)
    assert (limits.face_width_max, limits.face_width_target, limits.crown_target, limits.min_kb) == (215, 196, 18, 15.0)
    assert limits.width_px == 358                              # untouched values keep their defaults
    result = make_compliant_photo(images.astronaut(), limits)
    assert result.ok
    assert result.geometry.face_width <= 215 and result.geometry.face_width < result_for("original").geometry.face_width
    assert result.geometry.crown > result_for("original").geometry.crown

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"face_widht_min": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="face_widht_min"):
        load_limits(bad)


def test_jfif_density_is_written_into_an_existing_header():
    raw = cv2.imencode(".jpg", images.astronaut())[1].tobytes()
    assert read_jfif_density(raw)[0] == 0                       # OpenCV writes "no units"
    stamped = set_jfif_density(raw, 350)
    assert len(stamped) == len(raw)
    assert read_jfif_density(stamped) == (1, 350, 350)
    assert Image.open(io.BytesIO(stamped)).info["dpi"] == pytest.approx((350, 350))
    assert np.array_equal(decoded(stamped), decoded(raw))       # only the header changed


def test_report_serialises_every_check():
    report = result_for("original").to_dict()
    json.dumps(report, ensure_ascii=False)
    names = [c["name"] for c in report["checks"]]
    for required in ("face_found", "single_face", "face_complete", "head_tilt", "eyes_open", "mouth_closed",
                     "head_turn", "head_pitch", "glasses_glare", "too_dark", "over_exposed", "uneven_lighting",
                     "blurred", "face_visible", "no_hat", "face_width", "crown_position", "eye_line",
                     "eye_center", "background_white", "file_size"):
        assert required in names
    assert all({"name", "label", "passed", "value", "limit", "message"} <= set(c) for c in report["checks"])
    assert report["ok"] and report["geometry"]["face_width"] is not None
    assert report["engine"] == "cnn"
    # what no pixel rule decides is handed to the clerk, with the reason, never passed silently
    clerk = {c["name"]: c for c in report["clerk_checks"]}
    assert {"no_uniform", "ears_brows_uncovered"} <= set(clerk)
    assert all(c["reason"] for c in clerk.values())


def test_limits_are_one_frozen_table():
    with pytest.raises(Exception):
        DEFAULT_LIMITS.face_width_min = 1  # type: ignore[misc]
    assert isinstance(DEFAULT_LIMITS, PhotoLimits)
    with pytest.raises(TypeError):
        DEFAULT_LIMITS.with_overrides(not_a_limit=3)
