"""The center's PDF signatures: the key (:mod:`.keys`), the background worker that signs the
queued documents (:mod:`.worker`), and the service the screens and commands use (:mod:`.service`)."""
