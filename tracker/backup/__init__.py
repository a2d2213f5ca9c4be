"""Backups that restore: `tracker backup` writes one archive (the database as of one
moment, the evidence files, a manifest with counts and checksums); `tracker restore`
checks it and loads it into an empty instance. See README, "Backups"."""
