"""The append-only audit trail (nhật ký thay đổi)."""
