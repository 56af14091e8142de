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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for type checkers only, so this module stays import-cheap
    from counter_app.cases import Actor
    from counter_app.services import Window
    from ui.tasks import TaskRunners


@dataclass
class AppContext:
    window: "Window | None"
    tasks: "TaskRunners"
    actor: "Actor | None" = None
    # ``ui.device_hub.DeviceHub`` (owned by the acceptance engineer) once the devices are open.
    devices: Any = None
    # ``ui.sync_bridge.SyncBridge`` once the sync worker runs; None offline / in tests.
    sync: Any = None
    demo: bool = False
    # The applicant-facing second screen (set by the acceptance engineer's code), or None.
    applicant_screen: Any = None
    # ``ui.housekeeping.Housekeeping``: retention purge and SLA refresh on a timer.
    housekeeping: Any = None
