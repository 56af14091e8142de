"""Qt adapters for the devices: ``devices/`` knows no Qt, so the threads, signals and QImages live here.

* ``hub.DeviceHub`` — the window's device set (chosen by ``app.services.open_devices``) as signals on the GUI thread;
* ``card_reader.CardReaderWorker`` — the ID-card reader polled on its own QThread;
* ``camera_view.CameraView`` — the live preview widget;
* ``images.bgr_to_qimage`` — camera frames as detached QImages.
"""
