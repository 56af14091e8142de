"""The Qt style sheet (app.qss) shipped with the application."""
