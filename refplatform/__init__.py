"""The reference provincial platform: a real HTTP server implementing ``docs/openapi.yaml``.

It stands in for 省一体化政务服务平台 in demos, tests and benchmarks: its own store (SQLite, or
another database by URL), credentials enrolled per center, window and role (``credentials``),
deduplication by idempotency and business key, attachment hash checks (``blobs``), a department
clock moving each joint item through its department's statuses, the center's worklist with claims
and figures (``center``), one open case per person, the 数据共享校验 look-ups, service ratings and
offline bundle import. ``server.start_in_thread`` runs it in-process; ``counter-app platform
serve`` runs it as a process. The contract document is generated from ``app`` (``openapi_doc``).
"""
