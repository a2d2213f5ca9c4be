"""The app's JSON, written by orjson: the same JSON as Flask's own provider writes, in a
tenth of the time.

A page of 100 tasks is about 100 KB of JSON; Python's `json` module wrote it in 0.6 ms of
the request's CPU, orjson in 0.05 ms (docs/performance.md, "Prepared statements kept").
What Flask's `DefaultJSONProvider` decides is kept: keys sorted, compact out of debug (and
indented by two in it), and everything `json` cannot write itself (dates and times as HTTP
dates, decimals, UUIDs, dataclasses, Markup) handed to Flask's own `default` — orjson is
told to pass those through to it rather than write them its own way. One difference: text
is written as UTF-8, not as `\\uXXXX` escapes — the same JSON to any parser, and a third
smaller for Vietnamese. Reading JSON is left to Flask's provider (`json.loads`), whose
errors the API reports.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, writing with orjson."""

    ensure_ascii = False

    def _dump(self, obj: Any, *, indent: bool = False) -> bytes:
        return orjson.dumps(obj, default=self.default,
                            option=_OPTIONS | (orjson.OPT_INDENT_2 if indent else 0))

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # a caller's own choices of `json.dumps`: Flask's way
            return super().dumps(obj, **kwargs)
        return self._dump(obj).decode()

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        return self._app.response_class(self._dump(obj, indent=indent) + b"\n",
                                        mimetype=self.mimetype)
