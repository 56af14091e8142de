"""Camera frames as Qt images: the one BGR → QImage conversion the preview and the photo step share."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """A detached QImage of a BGR (or grey) frame; safe to build on any thread."""
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    if frame.ndim == 2:
        return QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888).copy()
