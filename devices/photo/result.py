"""What the photo pipeline hands back: the finished file (or none), every rule it evaluated, the
ticks the clerk still owes, and the geometry measured again on the output."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .checks import Check, ClerkCheck, check
from .limits import PhotoLimits


@dataclass
class OutputGeometry:
    """Measured on the finished photo (pixels of the output)."""

    face_width: int | None = None
    crown: int | None = None
    eye_line_from_bottom: float | None = None
    eye_center_x: float | None = None
    roll_deg: float | None = None
    background_white_fraction: float | None = None

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class PhotoResult:
    """What :func:`make_compliant_photo` made of one picture.

    ``jpeg`` is the compliant file, or ``None`` when any check failed; ``checks`` lists every
    rule evaluated, in order; ``clerk_checks`` the rules the clerk must still confirm by eye
    before the photo is used (the photo step shows them as tick boxes). ``image`` is the
    decoded output (BGR) whenever one was produced, even a non-compliant one, so a UI can show
    what went wrong; never save it as the photo. ``engine`` is ``"cnn"`` or ``"haar"`` (the
    fallback when the face models cannot be loaded; ``engine_note`` then says why).
    """

    jpeg: bytes | None
    checks: list[Check] = field(default_factory=list)
    geometry: OutputGeometry = field(default_factory=OutputGeometry)
    quality: int | None = None
    size_bytes: int | None = None
    image: np.ndarray | None = None
    source_face: object | None = None
    clerk_checks: list[ClerkCheck] = field(default_factory=list)
    engine: str = "cnn"
    engine_note: str = ""
    explain: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.jpeg is not None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def reason(self) -> str:
        """One line for the clerk: the first failure's message, or a confirmation."""
        failed = self.failures
        if failed:
            return failed[0].message
        if self.clerk_checks:
            return f"照片符合社保卡制证要求（另有 {len(self.clerk_checks)} 项请工作人员目视确认）"
        return "照片符合社保卡制证要求"

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "engine": self.engine,
            "engine_note": self.engine_note,
            "size_bytes": self.size_bytes,
            "jpeg_quality": self.quality,
            "geometry": self.geometry.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "clerk_checks": [c.to_dict() for c in self.clerk_checks],
        }


def geometry_checks(geo: OutputGeometry, limits: PhotoLimits) -> list[Check]:
    fw, crown = geo.face_width, geo.crown
    eyeb, eyex = geo.eye_line_from_bottom, geo.eye_center_x
    return [
        check("face_width", "脸部宽度", fw is not None and limits.face_width_min <= fw <= limits.face_width_max,
              fw, f"{limits.face_width_min}–{limits.face_width_max} px",
              "成品照片中脸部太小或太大：请调整申请人与镜头的距离后重拍"),
        check("crown_position", "头顶位置", crown is not None and limits.crown_min <= crown <= limits.crown_max,
              crown, f"距上边 {limits.crown_min}–{limits.crown_max} px",
              "头顶位置不符合要求：请让头顶与上方留出适当空白后重拍"),
        check("eye_line", "眼睛位置", eyeb is not None and eyeb >= limits.eye_line_min_from_bottom,
              eyeb, f"距下边 ≥ {limits.eye_line_min_from_bottom} px",
              "眼睛位置偏低：请重拍"),
        check("eye_center", "左右居中", eyex is not None and limits.eye_center_x_min <= eyex <= limits.eye_center_x_max,
              eyex, f"双眼中点距左边 {limits.eye_center_x_min}–{limits.eye_center_x_max} px",
              "人像不居中：请让申请人坐在镜头正前方"),
        check("background_white", "背景纯白",
              geo.background_white_fraction is not None
              and geo.background_white_fraction >= limits.min_background_white_fraction,
              geo.background_white_fraction, f"边缘白色像素比例 ≥ {limits.min_background_white_fraction:.0%}",
              "背景替换后不均匀：请在纯色背景前重拍，避免背景中有人或物体"),
    ]


def readable(image) -> Check | None:
    """A failed check when ``image`` is not an 8-bit picture of at least 32×32, else ``None``."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.dtype != np.uint8 \
            or min(image.shape[:2]) < 32:
        return check("image_readable", "图像", False, None, "8 位彩色图像，至少 32×32",
                     "无法读取图像：请重新拍摄或选择 JPG/PNG 照片文件")
    return None
