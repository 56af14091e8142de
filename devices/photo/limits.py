"""Every number the photo rules and the quality checks use, in one table.

The defaults follow the social security card photo rules (人社部《社会保障卡制证用数字相片技术要求》,
GA/T 461 for the ID card photo): 358×441 px, 350 dpi, 24-bit colour, white background,
JPEG of 14–40 KB, face width 179–255 px, crown 7–21 px below the top edge, eye line at
least 207 px above the bottom edge, the midpoint of the eyes 162–196 px from the left edge.
A province that publishes other numbers changes this table (or ships a TOML/JSON file read
by :func:`load_limits`), not the code.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PhotoLimits:
    # --- the output file -------------------------------------------------------------
    width_px: int = 358
    height_px: int = 441
    dpi: int = 350
    jpeg_quality: int = 70          # first try; re-encoded within the range below to land in the size band
    jpeg_quality_min: int = 40
    jpeg_quality_max: int = 95
    min_kb: float = 14.0
    max_kb: float = 40.0

    # --- geometry on the output (pixels of the 358×441 image) ------------------------
    face_width_min: int = 179
    face_width_max: int = 255
    face_width_target: int = 212     # aimed for; the width is cheek to cheek on the face mesh (the Haar
                                     # fallback measures its face box instead, 1.0–1.25× wider)
    crown_min: int = 7               # top of the head below the top edge
    crown_max: int = 21
    crown_target: int = 14
    eye_line_min_from_bottom: int = 207
    eye_center_x_min: int = 162      # midpoint between the eyes, from the left edge
    eye_center_x_max: int = 196
    max_roll_deg: float = 8.0        # roll within this is corrected; beyond it the applicant must sit upright

    # --- the face itself, measured on the CNN's face mesh ----------------------------------
    min_eye_openness: float = 0.12       # lid gap / eye width of each eye (open ≈ 0.25–0.35, closed < 0.1)
    mouth_gap_for_clerk: float = 0.10    # inner-lip gap / mouth width above which the clerk confirms the expression
    max_mouth_gap: float = 0.30          # above this the mouth is open (talking, laughing): refused
    max_yaw_deg: float = 12.0            # head turned left/right
    max_pitch_deg: float = 15.0          # chin raised or lowered
    max_hat_contrast: float = 0.52       # lightness spread above the forehead / face lightness: hair
                                         # stays below (≤ 0.46 measured), a cap's badge and band above (≥ 0.56)
    min_face_visible: float = 0.97       # share of the face outline the segmentation sees as the person
    max_glare_fraction: float = 0.15     # largest blown-out spot on an eye / the eye's area (a catchlight ≈ 0.03)

    # --- the source image -------------------------------------------------------------
    min_source_face_px: int = 64     # below this the 358×441 output would be an upscaled smear
    max_body_cut_fraction: float = 0.08  # share of the shoulder zone of the output lying outside the source

    # --- photometric checks, measured on the face at a normalised width ----------------
    quality_face_width: int = 128
    min_face_brightness: float = 70.0    # mean luminance 0–255
    max_face_brightness: float = 215.0
    max_clipped_fraction: float = 0.06   # share of face pixels at ≥ 250 (blown highlights)
    max_lighting_imbalance: float = 0.35 # |left − right| / mean of the two cheek halves
    min_sharpness: float = 150.0         # variance of the Laplacian on the normalised face (σ≈2 px blur ≈ 90)

    # --- background after replacement --------------------------------------------------
    background_white_level: int = 235    # a border pixel is "white" when its darkest channel is at least this
    min_background_white_fraction: float = 0.97

    # --- live guidance -----------------------------------------------------------------
    live_analysis_width: int = 320       # frames are analysed at this width for speed
    # face size as a share of the frame *height*: landscape camera frames are height-limited
    # for a head-and-shoulders picture
    live_min_face_fraction: float = 0.25 # below → 请靠近一点
    live_max_face_fraction: float = 0.60 # above → 请离远一点 (crown and shoulders must stay in view)
    live_max_center_offset: float = 0.12 # |face centre − guide centre| / frame size
    live_max_roll_deg: float = 6.0       # stricter than the final limit: roll is corrected, but less is better
    live_frames_to_capture: int = 6      # consecutive good frames before automatic capture

    def with_overrides(self, **changes) -> "PhotoLimits":
        """A copy with some values replaced; unknown names raise ``TypeError``."""
        return dataclasses.replace(self, **changes)

    @property
    def min_bytes(self) -> int:
        return int(self.min_kb * 1024)

    @property
    def max_bytes(self) -> int:
        return int(self.max_kb * 1024)


DEFAULT_LIMITS = PhotoLimits()


def load_limits(path: str | Path, base: PhotoLimits = DEFAULT_LIMITS) -> PhotoLimits:
    """Read a province's numbers from a ``.toml`` or ``.json`` file over ``base``.

    The file holds a flat table of the field names above (a TOML file may put them under
    ``[photo]``). A name that is not a known limit is an error, so a typo never silently
    falls back to the default.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    if isinstance(data.get("photo"), dict):
        data = data["photo"]
    known = {f.name: f for f in dataclasses.fields(PhotoLimits)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"照片参数文件 {path.name} 含未知参数：{', '.join(unknown)}")
    typed = {}
    for name, value in data.items():
        kind = type(getattr(base, name))
        typed[name] = kind(value)
    return dataclasses.replace(base, **typed)
