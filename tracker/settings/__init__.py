"""What an admin sets for a deployment: the calendar's days off and make-up days, and the
colour policy (`service`); where they are kept and read is `tracker.rules.store`."""
