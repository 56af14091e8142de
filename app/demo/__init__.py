"""The demo: seed data, the populated demo day (scene) and ``counter-app demo start``."""
from __future__ import annotations

# The demo accounts' password (shown on the demo's login screen; never used outside demo mode);
# it passes the password policy like any other account.
DEMO_PASSWORD = "henan-window-demo"
