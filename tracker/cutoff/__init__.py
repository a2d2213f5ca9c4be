"""The 16:00 cutoff: the stamp and the fence every write takes (`fence`), the day's job
(`job`), the days due and their status (`backlog`), the stored colours (`recolour`) and
the scheduler. The rules it applies live in `tracker.rules`."""
