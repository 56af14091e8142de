"""The 358×441 white-background photo (material 12, 白底一寸免冠照片电子版).

Public API:

- :func:`make_compliant_photo` ``(image_bgr, limits=DEFAULT_LIMITS, engine="auto") -> PhotoResult`` —
  one picture to the finished JPEG, with every check (name, measured value, limit, passed, Chinese
  message), the geometry measured again on the output, and ``clerk_checks``: what the clerk must
  confirm by eye (uniform, ears and eyebrows, a doubtful expression), each with its reason.
  Faces, landmarks and the person mask come from MediaPipe's networks (:mod:`.cnn`, models in
  ``resources/models/``); the Haar cascades (:mod:`.haar_pipeline`) only when those cannot load.
- :func:`devices.photo.explain.explain_image` — the annotated picture behind ``--explain``.
- :class:`LiveChecker` ``.check_frame(frame) -> LiveVerdict`` — fast per-frame guidance and
  automatic capture (``verdict.capture`` and ``checker.best_frame``).
- :func:`draw_overlay` ``(frame, verdict, mirror=False) -> ndarray`` — the preview frame with
  guide oval, face box, progress bar and the hint in Chinese, ready for display.
- :class:`PhotoLimits`, :data:`DEFAULT_LIMITS`, :func:`load_limits` — the one table of numbers.
"""
from .checks import Check
from .limits import DEFAULT_LIMITS, PhotoLimits, load_limits
from .live import LiveChecker, LiveState, LiveVerdict, draw_overlay
from .checks import ClerkCheck
from .pipeline import make_compliant_photo, measure_output
from .result import OutputGeometry, PhotoResult

__all__ = [
    "Check",
    "ClerkCheck",
    "DEFAULT_LIMITS",
    "LiveChecker",
    "LiveState",
    "LiveVerdict",
    "OutputGeometry",
    "PhotoLimits",
    "PhotoResult",
    "draw_overlay",
    "load_limits",
    "make_compliant_photo",
    "measure_output",
]
