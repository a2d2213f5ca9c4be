"""The rush's clients (run on the client host): threads posting single progress updates
through the load balancer, each with an `Idempotency-Key` of its own, and retrying a
request that got no answer or a 5xx with the same key (up to RETRIES times). Bounded in
count and time. Every attempt and every outcome goes to OUT as JSON lines:

    python -m cluster.rush LB_URL TARGETS.json OUT.jsonl SECONDS THREADS
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

RETRIES = 6
BACKOFF = 0.3  # seconds, doubled each retry
MAX_REQUESTS = 100_000  # in all, whatever the time


def post(session, lb: str, token: str, task: int, key: str, n: int) -> dict:
    """One update, retried with the same key until it is answered (or given up)."""
    body = {"progress": 50, "work_done": f"cluster {key}"}
    attempts = []
    for attempt in range(RETRIES + 1):
        try:
            answer = session.post(f"{lb}/api/v1/tasks/{task}/updates", json=body, timeout=15,
                                  headers={"Authorization": f"Bearer {token}",
                                           "Idempotency-Key": key})
            attempts.append(answer.status_code)
            if answer.status_code < 500 and answer.status_code != 409:
                reply = answer.json() if answer.headers.get("Content-Type", "").startswith(
                    "application/json") else {}
                return {"n": n, "key": key, "task": task, "status": answer.status_code,
                        "attempts": attempts, "reporting_day": reply.get("reporting_day"),
                        "replayed": answer.headers.get("Idempotent-Replayed"),
                        "at": time.time()}
        except requests.RequestException as exc:
            attempts.append(type(exc).__name__)
        time.sleep(BACKOFF * 2 ** attempt)
    return {"n": n, "key": key, "task": task, "status": None, "attempts": attempts,
            "at": time.time()}


def main(lb: str, targets_path: str, out: str, seconds: str, threads: str) -> int:
    targets = json.loads(Path(targets_path).read_text())["targets"]
    counter = itertools.count()
    lock = threading.Lock()
    until = time.time() + float(seconds)
    with open(out, "a") as log:
        def worker():
            session = requests.Session()
            while time.time() < until:
                n = next(counter)
                if n >= MAX_REQUESTS:
                    return
                token, task = targets[(n * 7919) % len(targets)]
                outcome = post(session, lb, token, task, str(uuid.uuid4()), n)
                with lock:
                    log.write(json.dumps(outcome) + "\n")
                    log.flush()

        pool = [threading.Thread(target=worker) for _ in range(int(threads))]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
