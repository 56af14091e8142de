"""The application: the composition root and every entry point, above all other layers.

- ``services``      **where the program is wired**: ``open_services(home, demo=...)`` builds the
                    window's services, its sync worker and its device set; ``open_devices`` is the
                    only place choosing real or simulated devices. The GUI receives them through
                    ``ui.context.AppHooks`` (``ui`` never imports ``app``).
- ``cli``           the ``counter-app`` root; ``commands/`` its command modules by area, registered
                    through ``cli.EXTENSION_MODULES`` (the core names none of them).
- ``gui``           starts the desktop application; ``demo/`` seed data, the demo day, ``demo start``.
- ``diagnostics``, ``signing/``, ``archive_*``, ``pki`` — IT's tools and the center's signature.

Nothing below imports this package (import-linter's layer contract).
"""
