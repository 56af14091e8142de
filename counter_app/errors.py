"""The one base for problems the person at the keyboard (clerk, supervisor, IT) can fix.

A ``UserError`` carries a Chinese message that says what happened and what to do; the CLI
prints it on one line and exits with ``exit_code``, the GUI shows it in a dialog. Domain
errors of every layer derive from it, so no caller needs to know which module raised.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; shown without a traceback."""

    exit_code: int = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code
