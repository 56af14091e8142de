"""The reference provincial platform: a real HTTP server implementing ``docs/openapi.yaml``.

It stands in for 省一体化政务服务平台 in demos and tests: its own SQLite store, deduplication by
idempotency and business key, attachment hash checks, a department clock moving each joint item
through its department's statuses, a synthetic worklist of approved online applications, the
数据共享校验 look-ups, service ratings and offline bundle import. ``server.start_in_thread`` runs it
in-process; ``counter-app platform serve`` runs it as a process.
"""
