"""The acceptance workflow at the window (受理): a nine-step stepper from the ID card to the rating.

``AcceptanceWidget(ctx, *, case_id=None, worklist_id=None, parent=None)`` with signals
``finished(str case_id)`` and ``cancelled()``; ``render_steps(ctx, out_dir)`` (in
``ui.acceptance.screenshots``) renders every step with demo data to PNG.

The widget is imported lazily, so the Qt-free helpers of this package (the render process,
``ui.acceptance.render_child``) can be imported without loading Qt.
"""
from __future__ import annotations

from typing import Any

__all__ = ["AcceptanceWidget", "STEP_CLASSES"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui.acceptance import widget

        return getattr(widget, name)
    raise AttributeError(name)
