"""Each user's calendar feed (iCalendar, RFC 5545) of the deadlines in their scope and the
daily cutoff, at a secret address they can reset (issue 17; docs/integration.md)."""
