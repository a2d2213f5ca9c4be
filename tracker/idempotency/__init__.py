"""Idempotency keys: a client's retry of a write is answered, not repeated."""
