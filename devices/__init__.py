"""Devices, one shape per kind (interface, driver, simulator, cli), knowing no Qt and no database.

- ``idcard/``    the ID-card reader: frames and card data parsed from the SAM module's bytes,
                 the WLT photo, the SDT library, the SAM simulator on a pseudo-terminal
- ``camera/``    cameras: interface, OpenCV driver, simulator (with the demo portrait), capture thread
- ``scanner/``   page processing, the one scan-to-PDF path, the import folder
- ``photo/``     the 358×441 photo pipeline; ``signature`` the signature model
- ``device_set`` the devices the composition root (``app.services.open_devices``) chose;
  ``health`` the device list; ``threads`` one-thread assertions

A simulator speaks the same bytes or frames as the hardware, so the real drivers run in the demo
and in tests. The Qt adapters are in ``ui/devices/``.
"""
