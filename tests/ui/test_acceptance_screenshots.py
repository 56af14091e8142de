"""``render_steps`` (used by ``counter-app ui screenshots``) renders every step with demo data."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def _pixels(path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return rows[:, : img.width() * 4].copy()   # copied while the QImage still owns the memory


def test_render_steps_writes_every_step_at_counter_resolution(ctx, tmp_path):
    from ui.acceptance.screenshots import STEP_FILES, render_steps

    paths = render_steps(ctx, tmp_path / "shots")
    names = [p.stem for p in paths]
    assert [n for n in names if n in STEP_FILES.values()] == list(STEP_FILES.values())
    assert "acceptance-applicant-signing" in names and "acceptance-applicant-rating" in names
    for path in paths:
        img = QImage(str(path))
        assert not img.isNull()
        if path.stem in STEP_FILES.values():
            assert (img.width(), img.height()) == (1366, 768), path.name   # fits the counter PC's screen
        assert _pixels(path).std() > 10, f"{path.name} 是空白图"
    # the demo acceptance really completed: its case is queued in the store
    assert ctx.window.cases.count() == 1
    assert ctx.devices is None   # the context is given back as it was (its hub was the render's own)
