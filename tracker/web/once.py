"""The update forms' idempotency key: each form carries a key made when it is rendered
(`UpdateForm.idempotency_key`), so that a double click, or a resubmit after a lost answer,
records one update; the repeat is answered with the first one's messages
(tracker.idempotency.service holds the rules)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import flash, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from tracker import clock
from tracker.errors import Conflict, InvalidInput
from tracker.idempotency.service import Answer, KeyInFlight, KeyReused, check_key, once
from tracker.labels import dmy
from tracker.rules.store import load_calendar
from tracker.web.update_form import new_key


def _form_body(skip: set[str]) -> bytes:
    """The submitted fields and files, in a stable order, as the request's fingerprint
    reads them (the CSRF token and the key itself left out)."""
    parts = [[name, values] for name, values in sorted(request.form.lists())
             if name not in skip]
    for name, files in sorted(request.files.lists()):
        for upload in files:
            digest = hashlib.sha256(upload.stream.read()).hexdigest()
            upload.stream.seek(0)
            parts.append([name, upload.filename or "", digest])
    return json.dumps(parts, ensure_ascii=False).encode()


def post_once(form, write: Callable[[], dict]) -> dict:
    """Run `write()` (which records an update, does not commit and returns `recorded`'s
    answer: the messages that tell the member so, the server's stamp and the reporting
    day) once per the form's key; a repeat of the same form gets the first answer back,
    with a note that it was recorded once (and `replayed`). A form sent without a key
    simply runs. The refusals come as the views already show them: `InvalidInput` for
    the key reused with other content (the form then gets a fresh key), `Conflict` while
    the first sending is still being processed."""
    field = form.idempotency_key
    key = check_key(field.raw_data[0] if field.raw_data else None, field.name)
    if key is None:
        return write()
    body = _form_body({form.csrf_token.name, field.name})
    try:
        answer = once(current_user.id, key, request.method, request.path, body,
                      lambda: Answer(303, json.dumps(write(), ensure_ascii=False)),
                      now=clock.now(), field=field.name)
    except KeyReused:
        field.data = new_key()
        raise InvalidInput(_("This form had already been sent with other content, and "
                             "recorded once; send it again to post another update.")) from None
    except KeyInFlight:
        raise Conflict(_("This form is still being sent; wait a moment, then reload the "
                         "page.")) from None
    result = json.loads(answer.body)
    if isinstance(result, list):  # stored before the answer held the stamp
        result = {"messages": result}
    result["replayed"] = answer.replayed
    if answer.replayed:
        result["messages"].append(
            _("This form had already been sent; the update was recorded once."))
    return result


def recorded(update: dict, message: str) -> dict:
    """What the member is told when `update` is recorded: `message`, and the reporting
    day it counts for when that is not the day it was sent (after the cutoff, or on a
    day off) — with the server's stamp and the day, for a draft sent from a phone."""
    sent_on = load_calendar().local_date(update["created_at"])
    later = update["reporting_day"] != sent_on
    messages = [message]
    if later:
        messages.append(_("Sent after the cutoff or on a day off, it counts for the "
                          "reporting day %(day)s.", day=dmy(update["reporting_day"])))
    return {"messages": messages, "created_at": update["created_at"].isoformat(),
            "reporting_day": update["reporting_day"].isoformat(), "later_day": later}


def wants_json() -> bool:
    """Whether the form was sent by a script that reads JSON (a draft kept offline and
    sent by js/offline.js) rather than by the browser's own form submission."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_answer(result: dict, status: int = 200):
    """The answer to a draft sent by script: what a form would flash, and the stamp."""
    return jsonify(result), status, {"Cache-Control": "no-store"}


def json_refusal(exc: InvalidInput | Conflict):
    return json_answer({"message": exc.message, "fields": getattr(exc, "fields", {}),
                        "code": getattr(exc, "code", None)}, exc.status)


def json_bad_form(form):
    """A form that did not validate: for the update forms only the CSRF token can fail
    (the services judge the fields), so the script fetches a fresh one and sends again."""
    return json_answer({"message": _("The form has expired; it is sent again."),
                        "code": "csrf", "fields": form.errors}, 400)


def flash_all(messages: list[str]) -> None:
    for message in messages:
        flash(message, "success")
