"""The 16:00-rush benchmark (`make bench`)."""
