"""PyInstaller runtime hook: runs before the application inside the bundle.

Alembic imports the migration scripts from files in the bundle. Python would write ``__pycache__``
next to them whenever the folder is writable (an IT person running ``sudo counter-app selftest``
on Linux), and those stray files would keep ``dpkg --remove`` from deleting ``/opt/counter-app``.
"""
import sys

sys.dont_write_bytecode = True
