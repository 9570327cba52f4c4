"""web.blueprint.Blueprint.errors documents a view's error statuses as flask-smorest's
alt_response does, without wrapping the view in a layer per status."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask
from flask.views import MethodView

from web.blueprint import Api, Blueprint


def spec(laurels: bool, statuses: tuple[int, ...]) -> dict[str, Any]:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("things", __name__)

    def document(view: Any) -> Any:
        if laurels:
            return blp.errors(*statuses)(view)
        for status in sorted({*statuses, 503}):  # what errors() did before: one wrapper each
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    @blp.route("/things/<thing_id>")
    class Thing(MethodView):
        @blp.response(200)
        @document
        def get(self, thing_id: str) -> dict[str, str]:
            """Read a thing."""
            return {"id": thing_id}

        @document
        @blp.response(201)
        def post(self, thing_id: str) -> dict[str, str]:
            """Make a thing."""
            return {"id": thing_id}

    api.register_blueprint(blp)
    response = app.test_client().get("/things/a")
    assert response.json == {"success": True, "data": {"id": "a"}}
    assert app.test_client().post("/things/b").status_code == 201
    return api.spec.to_dict()


def test_errors_are_documented_as_alt_response_documents_them() -> None:
    for statuses in [(), (404,), (400, 404, 409, 413, 422, 429)]:
        assert spec(laurels=True, statuses=statuses) == spec(laurels=False, statuses=statuses)


def test_errors_hands_back_the_view_itself() -> None:
    blp = Blueprint("plain", __name__)

    def view() -> str:
        return "ok"

    assert blp.errors(404, 409)(view) is view
    assert set(view._apidoc["response"]["responses"]) == {404, 409, 503}  # type: ignore[attr-defined]
