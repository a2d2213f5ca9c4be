"""The Idempotency-Key header on the API's writes that a client retries (the progress
updates): `answer_once` runs a write once per key and answers a retry with the stored
answer (tracker.idempotency.service holds the rules)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, request

from tracker import clock
from tracker.api.base import commit, identity
from tracker.idempotency.service import MAX_LENGTH, Answer, check_key, once

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"  # on a stored answer sent again (as Stripe's API says it)

# The header, as the OpenAPI document describes it on each operation that takes it.
PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
    "description": (
        "An opaque key (1-255 visible ASCII characters, e.g. a UUID) that makes a retry "
        "safe: the first request with the key is processed and its answer stored for 24 "
        "hours; a repeat with the same method, path and body gets the stored answer (same "
        "status and body, with `Idempotent-Replayed: true`) and writes nothing; the key "
        "with a different body is refused (422 naming `Idempotency-Key`); a repeat while "
        "the first is still being processed answers 409. A refused request stores no key."),
}
DOC = {"parameters": [PARAMETER], "responses": {
    "409": {"description": "Conflict (e.g. a request with this Idempotency-Key is still "
                           "being processed)"}}}


def answer_once(status: int, write: Callable[[], object]) -> Response:
    """Run `write()` (which returns the JSON-able body of a `status` answer and does not
    commit), commit, and answer — once per Idempotency-Key: a retry with the key gets the
    first answer back. Without the header, the write simply runs."""
    key = check_key(request.headers.get(HEADER), HEADER)

    def run() -> Answer:
        return Answer(status, current_app.json.dumps(write()))

    if key is None:
        answer = run()
    else:
        answer = once(identity().user_id, key, request.method, request.path,
                      request.get_data(cache=True), run, now=clock.now(), field=HEADER)
    commit()
    response = Response(answer.body + "\n", status=answer.status, mimetype="application/json")
    if answer.replayed:
        response.headers[REPLAYED] = "true"
    return response
