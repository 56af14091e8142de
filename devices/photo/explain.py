"""An annotated picture of what the pipeline saw and did, for the clerk or IT (``counter-app photo
--explain FILE.png``): the source around the person with the face mesh, eye centres, chin, the
person mask's outline, the crown and the crop box of the output; beside it the finished photo with
the rule bands (crown 7–21 px, lowest eye line, eye-centre band, measured face width); below, every
rule with its value, limit and verdict, and the ticks the clerk still owes.
"""
from __future__ import annotations

import cv2
import numpy as np

from . import cutout
from .cjk_font import TextPainter, default_painter
from .limits import DEFAULT_LIMITS, PhotoLimits
from .result import PhotoResult

PANEL_HEIGHT = 560
GREEN, RED, AMBER, BLUE, GREY = (60, 170, 60), (40, 40, 220), (0, 160, 240), (200, 120, 40), (120, 120, 120)


def explain_image(source_bgr: np.ndarray, result: PhotoResult, limits: PhotoLimits = DEFAULT_LIMITS,
                  painter: TextPainter | None = None) -> np.ndarray:
    """The annotated BGR picture (never raises for a refused photo: it shows as much as was found)."""
    painter = painter or default_painter()
    src = source_bgr if source_bgr.ndim == 3 else cv2.cvtColor(source_bgr, cv2.COLOR_GRAY2BGR)
    left = _source_panel(src, result, limits)
    right = _output_panel(result, limits)
    top = _hstack([left, right])
    text = _report_panel(result, top.shape[1], painter)
    return np.vstack([top, text])


def _source_panel(src: np.ndarray, result: PhotoResult, limits: PhotoLimits) -> np.ndarray:
    mesh = result.explain.get("mesh") if result.explain else None
    if mesh is None and result.source_face is not None and hasattr(result.source_face, "points"):
        mesh = result.source_face
    h, w = src.shape[:2]
    if mesh is not None:
        pts = mesh.points[:, :2]
        cx, cy = pts.mean(axis=0)
        half = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])) * 1.6
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half * 1.1))
        x1, y1 = int(min(w, cx + half)), int(min(h, cy + half * 1.4))
    else:
        x0, y0, x1, y1 = 0, 0, w, h
    k = PANEL_HEIGHT / float(max(1, y1 - y0))
    panel = cv2.resize(src[y0:y1, x0:x1], None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)

    def to_panel(p) -> tuple[int, int]:
        return int(round((p[0] - x0) * k)), int(round((p[1] - y0) * k))

    ex = result.explain or {}
    if "prob" in ex and "m_work" in ex:
        # the person mask carried back to the source and drawn as an outline
        inv = cv2.invertAffineTransform(ex["m_work"])
        shift = np.array([[1, 0, -x0], [0, 1, -y0]], np.float64)
        m = np.vstack([shift, [0, 0, 1]]) @ np.vstack([inv, [0, 0, 1]])
        m = (np.diag([k, k, 1.0]) @ m)[:2]
        mask = cv2.warpAffine((ex["prob"] >= cutout.PERSON).astype(np.uint8) * 255, m,
                              (panel.shape[1], panel.shape[0]), flags=cv2.INTER_LINEAR)
        contours, _ = cv2.findContours((mask > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(panel, contours, -1, BLUE, 2, cv2.LINE_AA)
        crown = np.array([cutout.WORK_SIZE / 2.0, ex.get("crown_work", 0.0), 1.0]) @ inv.T
        cv2.drawMarker(panel, to_panel(crown), AMBER, cv2.MARKER_TRIANGLE_DOWN, 18, 2)
    if mesh is not None:
        for p in mesh.points[:, :2]:
            cv2.circle(panel, to_panel(p), 1, GREEN, -1)
        for eye in (mesh.right_eye, mesh.left_eye):
            cv2.drawMarker(panel, to_panel(eye), RED, cv2.MARKER_CROSS, 16, 2)
        cv2.drawMarker(panel, to_panel(mesh.chin), AMBER, cv2.MARKER_TRIANGLE_UP, 18, 2)
    if "m_out" in ex:
        inv = cv2.invertAffineTransform(ex["m_out"])
        corners = np.array([[0, 0, 1], [limits.width_px, 0, 1], [limits.width_px, limits.height_px, 1],
                            [0, limits.height_px, 1]], np.float64) @ inv.T
        cv2.polylines(panel, [np.array([to_panel(c) for c in corners], np.int32)], True, AMBER, 2, cv2.LINE_AA)
    return panel


def _output_panel(result: PhotoResult, limits: PhotoLimits) -> np.ndarray:
    if result.image is None:
        return np.full((PANEL_HEIGHT, int(PANEL_HEIGHT * limits.width_px / limits.height_px), 3), 235, np.uint8)
    out = result.image.copy()
    w, h = limits.width_px, limits.height_px
    band = out.copy()
    cv2.rectangle(band, (0, limits.crown_min), (w, limits.crown_max), AMBER, -1)
    cv2.rectangle(band, (limits.eye_center_x_min, 0), (limits.eye_center_x_max, h), BLUE, -1)
    out = cv2.addWeighted(band, 0.18, out, 0.82, 0)
    eye_limit = h - limits.eye_line_min_from_bottom
    cv2.line(out, (0, eye_limit), (w, eye_limit), RED, 1, cv2.LINE_AA)
    g = result.geometry
    if g.eye_line_from_bottom is not None and g.eye_center_x is not None:
        ey = int(round(h - g.eye_line_from_bottom))
        cv2.drawMarker(out, (int(round(g.eye_center_x)), ey), RED, cv2.MARKER_CROSS, 14, 1)
        if g.face_width:
            cx = int(round(g.eye_center_x))
            cv2.line(out, (cx - g.face_width // 2, ey + 30), (cx + g.face_width // 2, ey + 30), GREEN, 2)
    if g.crown is not None:
        cv2.line(out, (0, g.crown), (w, g.crown), GREEN, 1)
    k = PANEL_HEIGHT / float(h)
    return cv2.resize(out, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)


def _report_panel(result: PhotoResult, width: int, painter: TextPainter) -> np.ndarray:
    lines: list[tuple[str, tuple[int, int, int]]] = []
    head = ("合格" if result.ok else "不合格") + "：" + result.reason
    lines.append((head, GREEN if result.ok else RED))
    if result.engine_note:
        lines.append((result.engine_note, AMBER))
    for c in result.checks:
        value = "—" if c.value is None else (f"{c.value:.2f}" if isinstance(c.value, float) else str(c.value))
        verdict = "通过" if c.passed else "不通过"
        lines.append((f"{verdict}  {c.label}：{value}（{c.limit}）", GREEN if c.passed else RED))
    for c in result.clerk_checks:
        lines.append((f"待确认  {c.label}：{c.reason}", AMBER))
    size = 18
    row = size + 8
    cols = 2 if len(lines) > 14 else 1
    per_col = (len(lines) + cols - 1) // cols
    panel = np.full((per_col * row + 16, width, 3), 255, np.uint8)
    max_chars = max(10, (width // cols - 20) // size)
    for i, (text, colour) in enumerate(lines):
        col, r = divmod(i, per_col)
        x, y = 10 + col * (width // cols), 8 + r * row
        if len(text) > max_chars:
            text = text[:max_chars - 1] + "…"
        if painter.draw(panel, text, (x, y), size, colour) == (0, 0):
            # no CJK font on this machine: at least the verdict colours show as a bar
            cv2.rectangle(panel, (x, y + 4), (x + 40, y + size - 4), colour, -1)
    return panel


def _hstack(panels: list[np.ndarray]) -> np.ndarray:
    h = max(p.shape[0] for p in panels)
    padded = [np.vstack([p, np.full((h - p.shape[0], p.shape[1], 3), 255, np.uint8)]) if p.shape[0] < h else p
              for p in panels]
    gap = np.full((h, 12, 3), 255, np.uint8)
    out = padded[0]
    for p in padded[1:]:
        out = np.hstack([out, gap, p])
    return out
