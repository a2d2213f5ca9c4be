"""The 16:00 cutoff: the working-day calendar and the xanh hoá colour rules (pure code)."""
