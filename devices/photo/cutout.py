"""The person cut out by the selfie-segmentation network, refined at the output's resolution.

The network sees a 256×256 upright working image: the face scaled to a third of its width, the
eyes at a fixed place, roll already corrected, so the head and shoulders fill it whatever the
source looked like (a 12 MP portrait or a 1080p frame with a room behind). Its probability map
is then carried to the 358×441 output and refined there with a guided filter on the output's own
pixels, which makes the outline follow hair and collar edges instead of the network's blurry
16-pixel cells; a slight erosion before the blend leaves no ring of the old background.
"""
from __future__ import annotations

import cv2
import numpy as np

from .cnn import FACE_OVAL, FOREHEAD_TOP, FaceMesh, PersonSegmenter, guided_filter

WORK_SIZE = 256
WORK_FACE_FRACTION = 0.33   # face width / working image width
WORK_EYE_Y = 0.42           # eye line / working image height
PERSON = 0.5                # probability above which a pixel is the person


def work_transform(eye_mid: tuple[float, float], roll_deg: float, face_width: float) -> np.ndarray:
    """Source → working image: rotate by the roll about the eyes, scale, put the eyes in place."""
    k = WORK_SIZE * WORK_FACE_FRACTION / max(1.0, face_width)
    m = cv2.getRotationMatrix2D(eye_mid, roll_deg, k)
    m[:, 2] += (WORK_SIZE / 2.0 - eye_mid[0], WORK_EYE_Y * WORK_SIZE - eye_mid[1])
    return m


def segment(image_bgr: np.ndarray, m_work: np.ndarray, segmenter: PersonSegmenter) -> tuple[np.ndarray, np.ndarray]:
    """The upright working image and the person probability on it."""
    scale = float(np.sqrt(abs(np.linalg.det(m_work[:, :2]))))
    src, m = image_bgr, m_work
    if scale < 0.5:   # pre-shrink with area averaging: bilinear sampling alone would alias
        f = min(1.0, scale * 2.0)
        src = cv2.resize(image_bgr, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        m = m_work.copy()
        m[:, :2] /= f
    work = cv2.warpAffine(src, m, (WORK_SIZE, WORK_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    prob = segmenter.probability(work)
    return work, _keep_the_face_component(prob)


def _keep_the_face_component(prob: np.ndarray) -> np.ndarray:
    """Zero every person blob not connected to the face (someone standing behind, a poster)."""
    person = (prob >= PERSON).astype(np.uint8)
    count, comp = cv2.connectedComponents(person, connectivity=8)
    if count <= 2:
        return prob
    seed = comp[int(WORK_EYE_Y * WORK_SIZE), WORK_SIZE // 2]
    if seed == 0:
        return prob
    keep = cv2.dilate((comp == seed).astype(np.uint8), np.ones((5, 5), np.uint8))
    return prob * keep


def crown_row(prob: np.ndarray) -> float | None:
    """Top of the head in the working image: the first row where the person spans at least two
    pixels within the head's width around the face's centre line."""
    half = int(0.45 * WORK_FACE_FRACTION * WORK_SIZE)
    c = WORK_SIZE // 2
    band = prob[:, c - half:c + half] >= PERSON
    rows = np.nonzero(band.sum(axis=1) >= 2)[0]
    if not len(rows):
        return None
    # sub-pixel: where the probability crosses one half in the column of the first row
    r = int(rows[0])
    if r == 0:
        return 0.0
    above = float(prob[r - 1, c - half:c + half].max())
    here = float(prob[r, c - half:c + half].max())
    return r - (here - PERSON) / max(1e-6, here - above)


def head_half_width(prob: np.ndarray, crown: float) -> float:
    """The larger distance, in working pixels, from the face's centre line to either side of the
    head (hair included) between the crown and just below the eyes (ear level)."""
    c = WORK_SIZE / 2.0
    bottom = int(WORK_EYE_Y * WORK_SIZE + 0.3 * WORK_FACE_FRACTION * WORK_SIZE)
    rows = prob[int(max(0, crown)):bottom] >= PERSON
    cols = np.nonzero(rows.any(axis=0))[0]
    if not len(cols):
        return 0.0
    return float(max(c - cols[0], cols[-1] + 1 - c))


def hat_contrast(work_bgr: np.ndarray, prob: np.ndarray, mesh_work: FaceMesh, crown: float) -> float:
    """Spread of lightness between the crown and the top of the forehead, on the person, relative
    to the face's mean lightness (so a darker exposure does not hide a cap).

    Hair, whatever its colour, is a fairly even texture there (0.15–0.46 on the portraits); a
    peaked cap's white crown, black band and badge is not (0.56–0.69 on the capped officer, at
    every exposure). 0 when the band is too thin to measure.
    """
    top = float(mesh_work.points[FOREHEAD_TOP, 1])
    h = top - crown
    if h < 4:
        return 0.0
    yy, xx = np.mgrid[0:WORK_SIZE, 0:WORK_SIZE]
    half = 0.35 * WORK_FACE_FRACTION * WORK_SIZE
    region = (prob >= PERSON) & (yy > crown + 0.2 * h) & (yy < top - 0.25 * h) & (np.abs(xx - WORK_SIZE / 2) < half)
    if region.sum() < 30:
        return 0.0
    lightness = cv2.cvtColor(work_bgr, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    face = _oval_mask(mesh_work)
    face_lightness = float(lightness[face].mean()) if face.any() else 0.0
    return float(lightness[region].std()) / max(20.0, face_lightness)


def face_visible(prob: np.ndarray, mesh_work: FaceMesh) -> float:
    """Share of the face outline's area that the segmentation calls person. A face half hidden
    by the edge of a pasted picture, a door frame or a card held up is not."""
    face = _oval_mask(mesh_work)
    return float((prob[face] >= PERSON).mean()) if face.any() else 0.0


def _oval_mask(mesh_work: FaceMesh) -> np.ndarray:
    mask = np.zeros((WORK_SIZE, WORK_SIZE), np.uint8)
    cv2.fillPoly(mask, [mesh_work.region(FACE_OVAL).astype(np.int32)], 1)
    return mask.astype(bool)


def face_polygon(mesh: FaceMesh) -> np.ndarray:
    return mesh.region(FACE_OVAL).astype(np.int32)


def output_alpha(prob: np.ndarray, m_work_to_out: np.ndarray, size: tuple[int, int],
                 out_pixels: np.ndarray, face_out: np.ndarray | None = None) -> np.ndarray:
    """The person's alpha on the output: the probability carried over, refined by a guided filter
    on the output pixels, hardened, the face always opaque, and pulled in by a pixel at the edge."""
    soft = cv2.warpAffine(prob, m_work_to_out, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    guide = cv2.cvtColor(out_pixels, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    refined = guided_filter(guide, soft, radius=6, eps=2e-3)
    alpha = np.clip((refined - PERSON) * 3.0 + 0.5, 0.0, 1.0)
    if face_out is not None:
        cv2.fillPoly(alpha, [face_out], 1.0)
    alpha = _fill_enclosed(alpha)
    alpha = cv2.erode(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return cv2.GaussianBlur(alpha, (0, 0), sigmaX=0.8)


def _fill_enclosed(alpha: np.ndarray) -> np.ndarray:
    """Background pockets not connected to the top or the sides are inside the person (a dark
    tie, a shadow under the chin): make them opaque."""
    bg = (alpha < 0.5).astype(np.uint8)
    count, comp = cv2.connectedComponents(bg, connectivity=4)
    if count <= 2:
        return alpha
    edge = set(np.unique(comp[0, :])) | set(np.unique(comp[:, 0])) | set(np.unique(comp[:, -1]))
    inner = ~np.isin(comp, list(edge)) & (bg == 1)
    out = alpha.copy()
    out[inner] = 1.0
    return out


def composite_on_white(image_bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    out = image_bgr.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
