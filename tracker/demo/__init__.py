"""Demo data: Quảng Ninh's 54 units, demo users and realistic tasks."""
