"""What the API relies on in flask-smorest and webargs, checked against the libraries
themselves, so that an upgrade that changes it fails here rather than in production.

`tracker.api.TrackerApi.register_blueprint` is the one place that repeats a library's
internals (flask-smorest's own `register_blueprint`, with another tag name): the first test
registers the same blueprint with the library's method and with Tracker's and requires the
same result but for the tag.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask_smorest import Api
from marshmallow import Schema, fields

from tracker import create_app
from tracker.api import TrackerApi
from tracker.api.base import ApiBlueprint, BadBody, Parser
from tracker.api.schemas import ErrorSchema


class ThingSchema(Schema):
    id = fields.Integer()


class StockApi(Api):
    """flask-smorest's Api as it comes, with Tracker's error body documented."""

    ERROR_SCHEMA = ErrorSchema


def _registered(api_class):
    app = Flask(__name__)
    app.config.update(API_TITLE="Things", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    api = api_class(app)
    blp = ApiBlueprint("things", __name__, description="Things (đồ vật).")

    @blp.route("/things/<int:thing_id>")
    @blp.response(200, ThingSchema)
    def thing(thing_id):
        return {"id": thing_id}

    api.register_blueprint(blp)
    return app, api


def _without(value, api):
    """`value` with the Api object named instead of compared by identity."""
    if value is api:
        return "<the api>"
    if isinstance(value, dict):
        return {key: _without(item, api) for key, item in value.items()}
    return value


def test_tracker_api_registers_a_blueprint_as_flask_smorest_does_but_for_the_tag():
    stock_app, stock = _registered(StockApi)
    app, api = _registered(TrackerApi)
    stock_doc, doc = stock.spec.to_dict(), api.spec.to_dict()
    assert stock_doc.pop("tags") == [{"name": "api_things", "description": "Things (đồ vật)."}]
    assert doc.pop("tags") == [{"name": "things", "description": "Things (đồ vật)."}]
    assert doc == stock_doc
    assert doc["paths"]["/api/v1/things/{thing_id}"]["get"]["tags"] == ["things"]
    # What flask-smorest keeps in the app (`flask_smorest.current_api` reads it) and the
    # routes Flask knows.
    assert _without(app.extensions["flask-smorest"], api) == \
        _without(stock_app.extensions["flask-smorest"], stock)
    assert app.extensions["flask-smorest"]["blp_name_to_api"] == {"api_things": api}
    assert sorted(map(str, app.url_map.iter_rules())) == \
        sorted(map(str, stock_app.url_map.iter_rules()))


@pytest.fixture(scope="module")
def bare_app():
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_parser_reads_the_body_as_json_whatever_the_content_type(bare_app):
    """webargs' public `load_json` hook: the "json" location is `tracker.api.base.load_body`."""
    schema = Schema.from_dict({"note": fields.String()})()
    parser = Parser()

    def parse(data, content_type):
        with bare_app.test_request_context("/", method="POST", data=data,
                                           content_type=content_type):
            return parser.parse(schema, location="json")

    assert parse('{"note": "Đã xong"}', "text/plain") == {"note": "Đã xong"}
    assert parse('{"note": "x"}', "application/json") == {"note": "x"}
    assert parse("", "application/json") == {}
    with pytest.raises(BadBody):
        parse("{not json", "application/json")
