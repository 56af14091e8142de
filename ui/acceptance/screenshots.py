"""``render_steps(ctx, out_dir)``: every acceptance step, filled with demo data, saved as PNG.

Called by the shell's ``counter-app ui screenshots DIR``. A complete demo acceptance is driven
through the real widgets (:class:`ui.acceptance.script.AcceptanceScript`: the sample card on the
simulated reader, the astronaut portrait in the simulated camera, strokes on the signature pad)
at the counter PCs' 1366×768, and each step is captured once it is filled in, plus the applicant's
screen while signing and while rating.

Thread contract: GUI thread; the QApplication must exist (offscreen is fine).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget

from ui.acceptance.script import AcceptanceScript, Choices, wait_until

log = logging.getLogger(__name__)

SIZE = (1366, 768)
STEP_FILES = {
    "identity": "acceptance-1-identity", "items": "acceptance-2-items", "form": "acceptance-3-form",
    "materials": "acceptance-4-materials", "photo": "acceptance-5-photo", "review": "acceptance-6-review",
    "print": "acceptance-7-print", "submit": "acceptance-8-submit", "rating": "acceptance-9-rating",
}


def _settle(widget: Any) -> None:
    """Let queued results land and layouts run, so the picture shows what the clerk would see."""
    ctx = widget.ctx
    wait_until(lambda: not ctx.tasks.busy and not widget.busy, 30, "后台任务完成")
    for _ in range(3):
        QApplication.processEvents()


def _sample_scan() -> str | None:
    """A real scanned text page for material 3 (scikit-image's ``page.png``), if installed."""
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "page.png"
    return str(path) if path.is_file() else None


def _save(widget: QWidget, path: Path) -> Path:
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"无法写入截图文件 {path}")
    return path


def render_steps(ctx: Any, out_dir: str | Path) -> list[Path]:
    """Render the nine steps (and the applicant's screen) with demo data; returns the PNG paths."""
    from ui.acceptance.style import ensure_ui_fonts
    from ui.acceptance.widget import AcceptanceWidget
    from ui.devices.hub import DeviceHub

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ensure_ui_fonts()
    saved_devices, saved_demo, saved_actor = ctx.devices, ctx.demo, ctx.actor
    own_hub = None
    if (ctx.devices is None or not ctx.devices.demo) and ctx.hooks.open_devices is not None:
        own_hub = DeviceHub(ctx.hooks.open_devices(ctx.window.settings, True))
        own_hub.start()
        ctx.devices = own_hub
    ctx.demo = True
    if ctx.actor is None:
        from counter_app.cases import Actor

        ctx.actor = Actor("clerk01", "clerk")
    paths: list[Path] = []
    widget = AcceptanceWidget(ctx)
    widget.resize(*SIZE)
    widget.show()

    pictured: set[str] = set()

    def filled(label: str) -> None:
        """The step filled in, before the action that moves it on by itself."""
        _settle(widget)
        paths.append(_save(widget, out / f"{STEP_FILES[label]}.png"))
        pictured.add(label)

    def after(label: str) -> None:
        if label not in pictured:
            filled(label)

    def moment(name: str) -> None:
        screen = ctx.applicant_screen
        if screen is not None:
            _settle(widget)
            paths.append(_save(screen, out / f"acceptance-applicant-{name}.png"))

    try:
        script = AcceptanceScript(widget, after_step=after, on_moment=moment, on_filled=filled)
        script.run_full(choices=Choices(), finish=False, material_scan=_sample_scan())
    finally:
        widget.close()
        widget.deleteLater()
        screen = ctx.applicant_screen
        if screen is not None:
            screen.close()
        if own_hub is not None:
            own_hub.shutdown()
        ctx.devices, ctx.demo, ctx.actor = saved_devices, saved_demo, saved_actor
    return paths
