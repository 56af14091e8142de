"""The headless core of the veterans' "one thing" counter application.

No PySide6, OpenCV or pyserial import is allowed anywhere in this package:
every rule of the scheme must be testable without a screen or a device.
"""

__version__ = "0.1.0"
