"""Read models: what a screen lists, read with the standard library's ``sqlite3`` only.

They never import SQLAlchemy or the store's models (importing those costs about a third of a
second the clerk would wait for), so a list can be shown while the full services are still
opening. Each read model is the one owner of its query: the full services use the same module.
Every read checks the store's schema revision first (:mod:`counter_app.queries.local_store`).
"""
