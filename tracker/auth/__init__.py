"""Users, login sessions and the scope rule (who may see which units)."""
