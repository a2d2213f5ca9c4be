"""The early warning (sắp chuyển đỏ): its loader, its service, its words and its
evaluation against the stored history; the rule itself is `tracker.rules.forecast`."""
