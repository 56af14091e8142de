"""The real-portrait set: photographs that packages ship under free licences, each at several
scales, crops, tilts and exposures and placed in 1920×1080 camera-like frames on real textures,
plus pictures without a face. Each sample says what a correct pipeline does with it: make a
compliant photo, or refuse it — and which refusals are fair (name the real cause).

Sources (see ``tests/data/portraits/README.md`` for files, licences and SHA-256):

- scikit-image ``astronaut`` (NASA portrait, public domain): frontal, smiling;
- matplotlib ``grace_hopper.jpg`` (US Navy portrait, public domain): an officer in uniform and
  peaked cap with glasses, in front of a flag — must be refused for the cap;
- five White House photographs from the ``face_recognition`` 1.3.0 source distribution
  (US government works, public domain): an official portrait (big smile), a standing portrait
  whose head leans 12° (refused as tilted; made when the picture is turned upright), a
  speaker with open mouth and turned head, a turned and raised head, a face cut by the edge;
- non-faces: scikit-image's cat, coffee, rocket, coins, horse, textures, the Hubble deep field,
  and a mosaic of the 100 non-face patches of its ``lfw_subset``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from skimage import data

from tests.devices import images

HERE = Path(__file__).resolve().parent
PORTRAITS = HERE.parent / "data" / "portraits"

MADE = "made"
FAIR = "fair"
WRONG = "wrong"


@lru_cache(maxsize=None)
def _read(name: str) -> np.ndarray:
    return cv2.imdecode(np.fromfile(str(PORTRAITS / name), np.uint8), cv2.IMREAD_COLOR)


@lru_cache(maxsize=None)
def _grace() -> np.ndarray:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        raw = np.frombuffer(fh.read(), np.uint8)
    return cv2.imdecode(raw, cv2.IMREAD_COLOR)


def _rgb(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


# Each source: the picture, roughly where the face is (x, y, width as fractions of the picture)
# and the head's own roll in degrees (positive: the image-right eye lower) — both measured once
# by eye and detector and used only to frame variants and to know which tilt a variant adds —
# and what a correct pipeline does with the unaltered picture.
@dataclass(frozen=True)
class Source:
    name: str
    load: Callable[[], np.ndarray]
    face: tuple[float, float, float]
    roll: float
    expect: str
    fair: frozenset = frozenset()


def _biden_upright() -> np.ndarray:
    # he leans his head 12.6° in the photograph; turned upright it is a frontal portrait
    return images.rotated(_read("biden.jpg"), 12.5)


SOURCES = [
    Source("astronaut", lambda: images.astronaut(), (0.44, 0.22, 0.18), 3.4, MADE),
    Source("obama_official", lambda: _read("obama.jpg"), (0.53, 0.25, 0.27), -1.2, MADE),
    Source("biden_upright", _biden_upright, (0.59, 0.18, 0.29), 0.1, MADE),
    Source("grace_hopper_cap", _grace, (0.52, 0.40, 0.36), -3.3, "refused", frozenset({"no_hat"})),
    Source("biden_leaning", lambda: _read("biden.jpg"), (0.59, 0.18, 0.29), 12.6, "refused",
           frozenset({"head_tilt"})),
    Source("obama_speaking", lambda: _read("obama2.jpg"), (0.55, 0.38, 0.45), 5.9, "refused",
           frozenset({"mouth_closed", "head_turn"})),
    Source("obama_turned", lambda: _read("obama3.jpg"), (0.54, 0.19, 0.22), 6.8, "refused",
           frozenset({"head_turn", "head_pitch"})),
    Source("obama_cut_by_edge", lambda: _read("obama_partial_face.jpg"), (0.15, 0.24, 0.5), -0.4, "refused",
           frozenset({"face_complete", "face_visible", "body_in_frame"})),
]
# What a variant does to the head: degrees of tilt added (counter-clockwise as displayed, which
# lowers the roll) and the scale of the source's pixels (None: the face is set to a fixed size).
VARIANT_TILT = {"tilt_plus_5": 5.0, "tilt_minus_5": -5.0, "frame_1080p_gravel_tilt_5_dark": 5.0}
VARIANT_SCALE = {"scale_0.6": 0.6, "scale_1.5": 1.5}
# Darkened variants: whether the face ends below the brightness limit depends on how dark the
# photograph already was, so either outcome is right — but only "too dark" is a fair refusal.
DARKENED = {"darker_0.6", "frame_1080p_gravel_tilt_5_dark"}
EITHER = "either"
MAX_ROLL = 8.0          # the roll the pipeline corrects (PhotoLimits.max_roll_deg)
MIN_SOURCE_FACE = 64    # PhotoLimits.min_source_face_px

def _textures() -> dict[str, np.ndarray]:
    return {"brick": _rgb(data.brick()), "gravel": _rgb(data.gravel()), "grass": _rgb(data.grass())}


def in_frame(picture: np.ndarray, face: tuple[float, float, float], face_px: int = 300,
             wall: str = "brick", size=(1920, 1080)) -> np.ndarray:
    """The picture scaled so the face is ``face_px`` wide, its face put at the usual place in a
    1920×1080 frame whose uncovered parts show a real texture (a wall, gravel, grass)."""
    W, H = size
    tex = _textures()[wall]
    reps = (H // tex.shape[0] + 1, W // tex.shape[1] + 1, 1)
    frame = np.tile(tex, reps)[:H, :W].copy()
    k = face_px / (face[2] * picture.shape[1])
    pic = images.scaled(picture, k)
    ph, pw = pic.shape[:2]
    x0 = int(W / 2 - face[0] * pw)
    y0 = int(H * 0.42 - face[1] * ph)
    X0, Y0, X1, Y1 = max(0, x0), max(0, y0), min(W, x0 + pw), min(H, y0 + ph)
    frame[Y0:Y1, X0:X1] = pic[Y0 - y0:Y1 - y0, X0 - x0:X1 - x0]
    return frame


def _crop_head_and_shoulders(picture: np.ndarray, face) -> np.ndarray:
    h, w = picture.shape[:2]
    fx, fy, fw = face[0] * w, face[1] * h, face[2] * w
    x0, x1 = int(max(0, fx - 1.6 * fw)), int(min(w, fx + 1.6 * fw))
    y0, y1 = int(max(0, fy - 1.3 * fw)), int(min(h, fy + 2.4 * fw))
    return picture[y0:y1, x0:x1]


VARIANTS: dict[str, Callable[[np.ndarray, tuple], np.ndarray]] = {
    "original": lambda p, f: p,
    "scale_0.6": lambda p, f: images.scaled(p, 0.6),
    "scale_1.5": lambda p, f: images.scaled(p, 1.5),
    "head_and_shoulders": _crop_head_and_shoulders,
    "tilt_plus_5": lambda p, f: images.rotated(p, 5),
    "tilt_minus_5": lambda p, f: images.rotated(p, -5),
    "darker_0.6": lambda p, f: images.exposed(p, 0.6),
    "brighter_gamma": lambda p, f: (255.0 * (p / 255.0) ** 0.8).astype(np.uint8),
    "frame_1080p_brick": lambda p, f: in_frame(p, f, 300, "brick"),
    "frame_1080p_gravel_tilt_5_dark": lambda p, f: images.exposed(images.rotated(in_frame(p, f, 300, "gravel"), 5), 0.7),
    "frame_1080p_grass_small": lambda p, f: in_frame(p, f, 200, "grass"),
}
REFUSAL_VARIANTS = ["original", "darker_0.6", "frame_1080p_brick", "tilt_minus_5"]


def _nonfaces() -> dict[str, Callable[[], np.ndarray]]:
    def lfw_mosaic() -> np.ndarray:
        patches = data.lfw_subset()[100:]              # the second hundred are not faces
        tiles = (patches * 255).astype(np.uint8).reshape(10, 10, 25, 25).swapaxes(1, 2).reshape(250, 250)
        return _rgb(cv2.resize(tiles, (1000, 1000), interpolation=cv2.INTER_CUBIC))

    return {
        "cat": lambda: images.chelsea(), "coffee": lambda: images.coffee(),
        "rocket": lambda: _rgb(data.rocket()), "coins": lambda: _rgb(data.coins()),
        "horse": lambda: _rgb((data.horse() * 255).astype(np.uint8)),
        "brick": lambda: _rgb(data.brick()), "gravel": lambda: _rgb(data.gravel()),
        "hubble": lambda: _rgb(data.hubble_deep_field()), "motorcycle": lambda: _rgb(data.stereo_motorcycle()[0]),
        "lfw_non_faces": lfw_mosaic,
        "cat_in_1080p": lambda: in_frame(images.chelsea(), (0.5, 0.35, 0.3), 300, "brick"),
    }


@dataclass(frozen=True)
class Sample:
    name: str
    make: Callable[[], np.ndarray]
    expect: str                     # MADE, "refused" or EITHER
    fair: frozenset = field(default_factory=frozenset)
    face: bool = True


def _source_face_px(src: Source) -> float:
    return src.face[2] * src.load().shape[1]


def samples() -> list[Sample]:
    """Every sample; a variant that tilts the head past the corrected roll, or shrinks the face
    below the usable resolution, is expected to be refused for exactly that."""
    out = []
    for src in SOURCES:
        names = list(VARIANTS) if src.expect == MADE else REFUSAL_VARIANTS
        for v in names:
            expect, fair = src.expect, set(src.fair)
            if abs(src.roll - VARIANT_TILT.get(v, 0.0)) > MAX_ROLL:
                expect, fair = "refused", fair | {"head_tilt"}
            if v in VARIANT_SCALE and _source_face_px(src) * VARIANT_SCALE[v] < MIN_SOURCE_FACE:
                expect, fair = "refused", fair | {"source_resolution"}
            if v in DARKENED:
                expect, fair = (EITHER if expect == MADE else expect), fair | {"too_dark"}
            fn = VARIANTS[v]
            out.append(Sample(f"{src.name}/{v}", (lambda s=src, f=fn: f(s.load(), s.face)), expect,
                              frozenset(fair)))
    for name, fn in _nonfaces().items():
        out.append(Sample(f"non_face/{name}", fn, "refused", frozenset({"face_found"}), face=False))
    return out


def grade(sample: Sample, result) -> str:
    """MADE, FAIR (refused, and the first failure is one of the fair causes) or WRONG."""
    if result.ok:
        return MADE if sample.expect in (MADE, EITHER) else WRONG
    first = result.failures[0].name if result.failures else ""
    return FAIR if first in sample.fair else WRONG
