"""The services one running counter application shares between its screens.

``AppContext`` is a plain holder, built once by ``ui.app.run_gui`` (or by a test fixture) and
passed into every screen's constructor; screens never reach for globals. It holds no logic:
behaviour lives in the services it points at.

``window`` is None only during a cold start, while ``ui.app.Startup`` opens the services on a
worker behind the already visible main window; every screen that uses it is built afterwards.
``devices`` and ``sync`` follow a moment later (they are not needed to log in).

Thread contract: the context itself is created and mutated on the GUI thread only. The objects
it holds state their own contracts (``tasks`` runners take callables from the GUI thread and
call back on it; ``window`` services may be called from the ``tasks.db`` worker).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:  # imported for type checkers only, so this module stays import-cheap
    from counter_app.cases import Actor
    from counter_app.config import Settings
    from counter_app.sync import SyncWorker
    from devices.device_set import DeviceSet
    from counter_app.services import Window
    from ui.applicant_screen import ApplicantScreen
    from ui.devices.hub import DeviceHub
    from ui.housekeeping import Housekeeping
    from ui.sync_bridge import SyncBridge
    from ui.tasks import TaskRunners


class SigningOutcome(Protocol):
    ok: bool
    message: str


class SigningService(Protocol):
    """The center's PDF signing service as the screens use it (``app.signing.service``)."""

    def describe(self) -> str: ...
    def status_text(self) -> str: ...
    def unlock(self, secret: str) -> SigningOutcome: ...
    def self_test(self) -> SigningOutcome: ...
    def reload_settings(self) -> None: ...
    def wake(self) -> None: ...
    def start(self, *, unlock_with: str | None = None) -> None: ...
    def stop(self) -> None: ...


class DiagnosticsExport(Protocol):
    """What ``export_diagnostics`` returns (``app.diagnostics.DiagnosticsResult``)."""

    path: Path
    problems: list[str]


@dataclass(frozen=True)
class AppHooks:
    """What the application layer (``app/``) lends the screens, so that ``ui`` never imports it.

    ``export_diagnostics(home, target_zip, operator=..., device_rows=...)`` writes the diagnostics
    zip; None where the program was built without it. ``open_sync(window)`` and
    ``open_devices(settings, demo)`` are the composition root's (``app.services``): the sync
    worker and the device set, real or simulated; without them the screens run with neither.
    """

    demo_password: str = ""
    export_diagnostics: "Callable[..., DiagnosticsExport] | None" = None
    signing_service: "Callable[[Window], SigningService] | None" = None
    open_sync: "Callable[[Window], SyncWorker] | None" = None
    open_devices: "Callable[[Settings, bool], DeviceSet] | None" = None


@dataclass
class AppContext:
    window: "Window | None"
    tasks: "TaskRunners"
    actor: "Actor | None" = None
    # The device hub once the devices are open (shortly after start); None before.
    devices: "DeviceHub | None" = None
    # The bridge to the sync worker once it runs; None offline / in tests.
    sync: "SyncBridge | None" = None
    demo: bool = False
    # The applicant-facing second screen, or None.
    applicant_screen: "ApplicantScreen | None" = None
    # Retention purge and SLA refresh on a timer.
    housekeeping: "Housekeeping | None" = None
    # The center's signing service (app.signing.service, lent through hooks), or None.
    signing: SigningService | None = None
    hooks: AppHooks = field(default_factory=AppHooks)
