"""`make cluster-test`: Tracker as a national deployment on one machine — web hosts behind a
load balancer, a PostgreSQL primary and its streaming replica, two schedulers — each host in
a network namespace of its own, with faults injected during a rush (docs/deployment.md)."""
