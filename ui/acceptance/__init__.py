"""The acceptance workflow at the window (受理): a nine-step stepper from the ID card to the rating.

``AcceptanceWidget(ctx, *, case_id=None, worklist_id=None, parent=None)`` with signals
``finished(str case_id)`` and ``cancelled()``; ``render_steps(ctx, out_dir)`` (in
``ui.acceptance.screenshots``) renders every step with demo data to PNG.
"""
from ui.acceptance.widget import STEP_CLASSES, AcceptanceWidget

__all__ = ["AcceptanceWidget", "STEP_CLASSES"]
