"""Signature strokes: plausibility rules (one row per rule), rendering and storage."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from devices.signature import (
    DEFAULT_THRESHOLDS,
    PROBLEM_MESSAGES,
    Signature,
    SignatureFormatError,
    SignatureRecorder,
    SignatureThresholds,
    signature_from_points,
)

from tests.devices.conftest import has_chinese

W, H = 600, 200


def handwriting(strokes: int = 3, points: int = 60, pressure=lambda t: 0.3 + 0.6 * abs(math.sin(5 * t))):
    """Loopy strokes across the canvas, like a three-character name written left to right."""
    out = []
    for k in range(strokes):
        stroke = []
        for i in range(points):
            t = i / (points - 1)
            stroke.append((60 + k * 170 + 120 * t + 25 * math.sin(12 * t), 100 + 50 * math.cos(9 * t + k),
                           pressure(t), k + t))
        out.append(stroke)
    return out


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.ndim == 3 and image.shape[2] == 4
    return image


def line(y: float, pressure: float, x0=50, x1=550, n=80):
    return [(x0 + (x1 - x0) * i / (n - 1), y, pressure, i / 100) for i in range(n)]


# ------------------------------------------------------------------ plausibility, one row per rule

RULES = [
    ("plausible handwriting", handwriting(), []),
    ("blank", [], ["blank"]),
    ("a single dot", [[(300, 100)]], ["single_dot"]),
    ("a dot made of many samples", [[(300 + i % 2, 100, 0.5, i / 100) for i in range(50)]], ["single_dot"]),
    ("one long stroke", [[(60 + 4 * i + 25 * math.sin(i / 4), 100 + 50 * math.cos(i / 5)) for i in range(120)]],
     ["too_few_strokes"]),
    ("two sparse strokes", [[(50, 50), (550, 150)], [(50, 150), (550, 50)]], ["too_few_points"]),
    ("a small scribble", [[(300 + 5 * math.cos(i), 100 + 5 * math.sin(i)) for i in range(30)] for _ in range(2)],
     ["too_little_ink", "box_too_small"]),
    ("a flat line", [line(100, 0.5), line(101, 0.5)], ["box_too_small"]),
    ("a short tick", [[(290 + i, 100 + i) for i in range(8)], [(300 + i, 100) for i in range(8)]],
     ["too_few_points", "too_little_ink", "box_too_small"]),
]


@pytest.mark.parametrize("strokes,expected", [(s, e) for _, s, e in RULES], ids=[name for name, _, _ in RULES])
def test_plausibility_rules(strokes, expected):
    problems = signature_from_points(W, H, strokes).validate()
    assert [p.code for p in problems] == expected
    assert all(has_chinese(p.message) for p in problems)


ONE_STROKE = next(s for name, s, _ in RULES if name == "one long stroke")


def test_messages_name_the_problem_in_chinese():
    assert set(PROBLEM_MESSAGES) == {"blank", "single_dot", "too_few_strokes", "too_few_points",
                                     "too_little_ink", "box_too_small"}
    problem = signature_from_points(W, H, ONE_STROKE).validate()[0]
    assert problem.message == "笔画过少（1 笔），请完整签写姓名"


def test_thresholds_come_from_one_table():
    signature = signature_from_points(W, H, ONE_STROKE)
    assert not signature.is_acceptable()
    assert signature.is_acceptable(SignatureThresholds(min_strokes=1))
    assert DEFAULT_THRESHOLDS.min_strokes == 2


def test_measures():
    signature = signature_from_points(W, H, [[(10, 10), (40, 50)], [(100, 20), (100, 30), (130, 30)]])
    assert signature.ink_length == pytest.approx(50 + 10 + 30)
    box = signature.bounding_box()
    assert (box.left, box.top, box.right, box.bottom) == (10, 10, 130, 50)
    assert signature.point_count == 5
    assert Signature(W, H).bounding_box() is None


# ------------------------------------------------------------------ recorder

def test_recorder_builds_strokes_from_pointer_events():
    rec = SignatureRecorder(W, H, "mouse")
    rec.move(5, 5)  # hovering: no ink
    rec.press(10, 10, t=0.0)
    rec.move(10, 10, t=0.01)  # repeated sample dropped
    rec.move(20, 15, t=0.02)
    rec.move(700, -5, 1.7, t=0.03)  # off the canvas: clamped
    rec.release()
    rec.press(50, 50)
    rec.release()
    sig = rec.signature()
    assert [len(s.points) for s in sig.strokes] == [3, 1]
    last = sig.strokes[0].points[-1]
    assert (last.x, last.y, last.pressure) == (W, 0, 1.0)
    assert sig.source == "mouse"
    rec.undo_stroke()
    assert len(rec.signature().strokes) == 1
    rec.clear()
    assert rec.signature().is_blank


# ------------------------------------------------------------------ PNG

def test_png_is_transparent_with_antialiased_ink():
    signature = signature_from_points(W, H, handwriting())
    image = decode_png(signature.to_png(crop=False))
    assert image.shape[:2] == (H, W)
    alpha = image[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # transparent background
    assert alpha.max() == 255
    assert np.count_nonzero((alpha > 0) & (alpha < 255)) > 200  # smooth edges, not jagged
    ink = alpha > 0
    assert np.all(image[..., :3][ink] == 0)  # black ink everywhere there is ink
    # ink sits on the strokes: every input sample is covered, the far corner is not
    for stroke in signature.strokes:
        for p in stroke.points[::7]:
            assert alpha[int(round(p.y)), int(round(p.x))] > 0
    assert alpha[190, 590] == 0


def test_pen_width_follows_pressure():
    light = signature_from_points(W, H, [line(100, 0.0)])
    heavy = signature_from_points(W, H, [line(100, 1.0)])

    def thickness(sig):
        alpha = decode_png(sig.to_png(crop=False, pen_width=6))[..., 3]
        return np.count_nonzero(alpha[:, 300] > 127)

    assert thickness(heavy) >= 2.5 * thickness(light)


def test_png_crop_scale_and_colour():
    signature = signature_from_points(W, H, handwriting())
    box = signature.bounding_box()
    image = decode_png(signature.to_png(scale=2.0, color=(20, 40, 200), padding=4, pen_width=3))
    assert image.shape[1] == pytest.approx(2 * box.width + 2 * (4 + 4.5), abs=2)
    assert image.shape[0] == pytest.approx(2 * box.height + 2 * (4 + 4.5), abs=2)
    b, g, r = image[..., 0], image[..., 1], image[..., 2]
    ink = image[..., 3] > 0
    assert np.all(r[ink] == 20) and np.all(g[ink] == 40) and np.all(b[ink] == 200)


# ------------------------------------------------------------------ SVG

def test_svg_paths_follow_the_strokes_with_pressure_widths():
    signature = signature_from_points(W, H, [line(60, 0.0), line(140, 1.0)])
    root = ET.fromstring(signature.to_svg(crop=False, pen_width=4))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and root.get("viewBox") == f"0 0 {W} {H}"
    paths = root.iter(f"{ns}path")
    widths = {}
    for path in paths:
        coords = [float(v) for v in path.get("d").replace("M", "").replace("L", "").split()]
        ys = set(round(y) for y in coords[1::2])
        widths.setdefault(ys.pop(), set()).add(float(path.get("stroke-width")))
        assert all(0 <= x <= W for x in coords[0::2])
    assert widths == {60: {2.0}, 140: {6.0}}  # 0.5× and 1.5× the pen width
    assert root.find(f"{ns}rect") is None  # no background


def test_svg_draws_a_lone_point_as_a_dot():
    root = ET.fromstring(signature_from_points(W, H, [[(100, 100, 0.5)]]).to_svg(crop=False))
    circle = root.find(".//{http://www.w3.org/2000/svg}circle")
    assert (float(circle.get("cx")), float(circle.get("cy")), float(circle.get("r"))) == (100, 100, 1.5)


# ------------------------------------------------------------------ JSON

def test_json_round_trip():
    signature = signature_from_points(W, H, handwriting(), source="tablet")
    restored = Signature.from_json(signature.to_json())
    assert restored == signature


@pytest.mark.parametrize("text,expected", [
    ("{broken", "不是有效的 JSON"),
    ('{"format": "something-else"}', "不是签名数据"),
    ('{"format": "counter-app-signature", "version": 99}', "版本"),
    ('{"format": "counter-app-signature", "version": 1, "width": 600}', "不完整"),
    ('{"format": "counter-app-signature", "version": 1, "width": 600, "height": 200, "strokes": [[[1, 2, 0.5]]]}', "不完整"),
    ('{"format": "counter-app-signature", "version": 1, "width": 600, "height": 200, "strokes": [[[NaN, 2, 0.5, 0]]]}', "无效"),
    ('{"format": "counter-app-signature", "version": 1, "width": 0, "height": 200, "strokes": []}', "无效"),
])
def test_damaged_json_gives_a_chinese_message(text, expected):
    with pytest.raises(SignatureFormatError) as info:
        Signature.from_json(text)
    assert expected in info.value.message
