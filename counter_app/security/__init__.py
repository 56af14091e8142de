"""Security: keys, encryption at rest, blind indexes, masking, audit chain, seals, operators."""
