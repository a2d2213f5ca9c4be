"""WSGI entry point: `flask --app wsgi …` and `gunicorn wsgi:app`."""

import gc

from tracker import create_app

app = create_app()

# What the process holds once the app is made (modules, the app, its metadata, catalogs,
# templates: some 200,000 objects) lives as long as the process. Frozen, it is left out of
# the collector's passes: a full pass, which a busy worker makes every few requests, then
# reads the objects made since, not all of them (160 ms → 12 ms at national size,
# docs/performance.md). Collected first, so that no garbage is frozen with it.
gc.collect()
gc.freeze()
