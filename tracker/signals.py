"""What happens to a task, announced to whoever wants to react (blinker, which ships with
Flask). An operation changes its rows, flushes, then sends its signal in the same
transaction; the receivers (notifications, e-mail) write in that transaction too. The
operations never import the features that react to them.

Each signal is sent with the task as sender and keyword arguments: `actor` (the user who
acted), `now` (the write's server stamp) and what the event carries (`note`, `request`,
`comment`).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

completion_submitted = _signals.signal("completion-submitted")
"""The lead unit submitted the task's completion (đề nghị xác nhận hoàn thành)."""
completion_confirmed = _signals.signal("completion-confirmed")
"""A supervisor confirmed the completion (`note` optional)."""
completion_returned = _signals.signal("completion-returned")
"""A supervisor returned the completion (`note`: the reason)."""
extension_requested = _signals.signal("extension-requested")
"""The lead unit asked for a later deadline (`request`: the ExtensionRequest)."""
extension_decided = _signals.signal("extension-decided")
"""A supervisor approved or rejected an extension (`request`: the decided request)."""
comment_added = _signals.signal("comment-added")
"""Someone commented on the task, or acknowledged it (`comment`: the Comment)."""
task_edited = _signals.signal("task-edited")
"""An admin changed some of the task's fields, its lead unit aside (`changes`: field →
(old, new); `note` optional)."""
task_reassigned = _signals.signal("task-reassigned")
"""An admin gave the task to another lead unit (`old_unit`: the Unit that led it;
`changes`: field → (old, new), the lead unit's ids among them; `note` optional)."""
task_cancelled = _signals.signal("task-cancelled")
"""An admin cancelled the task (`note`: the reason)."""
task_created = _signals.signal("task-created")
"""An admin assigned the task (one, in bulk, or by an import)."""
colour_changed = _signals.signal("colour-changed")
"""A writer stored another colour for the task (`old`, `new`: "green", "yellow", "red" or
None). The cutoff's own recolouring is in its day's record (`cutoff_done`), and a batch of
updates announces its changes with `updates_posted`."""
updates_posted = _signals.signal("updates-posted")
"""A unit posted progress updates, one or a batch (sent with no sender: `reporter` the
token-style Identity, `updates` the written updates as dicts, `colour_changes` the tasks
whose stored colour the batch changed as (task id, old, new))."""
cutoff_done = _signals.signal("cutoff-done")
"""A reporting day's cutoff was processed (sender: the day, a date; `summary` the day's
figures as a dict; `now`). Sent in the cutoff's transaction, before its commit."""

# What happens to a kiến nghị (tracker.kiennghi): sent with the Recommendation as sender,
# `actor` (None for the day's job) and `now`.
recommendation_raised = _signals.signal("recommendation-raised")
"""A unit raised a kiến nghị: its supervisors are to route it."""
recommendation_routed = _signals.signal("recommendation-routed")
"""A supervisor assigned the responsible unit and its deadline (`forwarded`: True when it
was forwarded up a level instead; `merged_into`: the Recommendation it joined, when merged)."""
recommendation_answered = _signals.signal("recommendation-answered")
"""The responsible unit answered: every raiser (of it and of its merged duplicates) hears."""
recommendation_judged = _signals.signal("recommendation-judged")
"""The raiser accepted the answer (`accepted` True) or asked again (`reason`)."""
recommendation_overdue = _signals.signal("recommendation-overdue")
"""The response deadline passed with no answer (announced once per deadline)."""
