"""Security: keys, encryption at rest, blind indexes, masking, audit chain, seals, operators.

- ``keystore``   where the master secrets live (OS keyring; explicit file store for headless machines)
- ``vault``      AEAD encryption at rest (AES-256-GCM / SM4-GCM), wrapped data keys, blind indexes
- ``passwords``  scrypt hashing and the password policy
- ``roles``      the role matrix (clerk / supervisor / it_admin) — read this first
- ``operators``  accounts, login with lockout
- ``access``     authenticate, idle-locked operator sessions, audited reveals
- ``seal``       Ed25519 seals on finalized cases; ``verify_seal`` needs no private key
- ``archive``    re-checking a finalized case: digest, audit, seal, every file
- ``retention``  purging finished cases after the retention period
- ``log_filter`` a logging.Filter that masks ID, phone and bank card numbers
- ``recovery``   the recovery key (shown once at set-up) and ``keys recover``
- ``rotation``   data-key rotation that re-encrypts everything and destroys the old keys
- ``audit_anchor`` the audit head kept outside the database (a truncated chain is caught)
- ``cli``        ``counter-app keys|audit|archive|operators|retention``
"""
