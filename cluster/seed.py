"""Seed the cluster's database (run on the client host): create it on the primary, migrate,
seed one province with bench.seed (members with API tokens, tasks, five days of history),
process the previous working day's cutoff, and write what the rush needs as JSON:

    python -m cluster.seed POSTGRES_URL NAME OUT.json
"""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg

from bench.harness import ROOT, env_for
from bench.run import PREVIOUS_DAY, RUSH

PER_UNIT = 10  # open tasks per unit the rush posts on


def main(server: str, name: str, out: str) -> int:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    env = env_for(url, RUSH)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    from bench.seed import seed
    from tracker import create_app
    from tracker.clock import FixedClock

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://"),
                      "CLOCK": FixedClock(RUSH), "SECRET_KEY": "bench"})
    seeded = seed(app, url, "province", RUSH.date(), RUSH)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "tracker", "cutoff", "run",
                    "--date", PREVIOUS_DAY.isoformat()], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    targets = [[seeded.tokens[unit], task] for unit in seeded.units
               for task in seeded.tasks[unit][:PER_UNIT]]
    with open(out, "w") as f:
        json.dump({"admin_token": seeded.admin_token, "targets": targets,
                   "tasks": seeded.task_count}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
