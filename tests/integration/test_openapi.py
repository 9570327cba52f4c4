"""The OpenAPI document describes every operation, its envelope and its errors."""

from __future__ import annotations

from typing import Any


def test_openapi_documents_event_endpoint_with_envelopes(client: Any) -> None:
    spec = client.get("/openapi.json").json

    post = spec["paths"]["/event"]["post"]
    assert set(post["responses"]) >= {"200", "400", "401", "403", "404", "413", "429"}
    ok_schema = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = spec["components"]["schemas"][ok_schema.rsplit("/", 1)[1]]
    assert set(envelope["properties"]) == {"success", "data"}
    error_ref = spec["components"]["responses"]["NOT_FOUND"]["content"]["application/json"]
    error_schema = spec["components"]["schemas"][error_ref["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(error_schema["properties"]) == {"success", "error"}
    assert post["summary"].startswith("Record a user's event")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_operation_documents_a_success_and_an_error(client: Any) -> None:
    spec = client.get("/openapi.json").json

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert any(code.startswith("2") for code in codes), (method, path)
            assert any(code.startswith(("4", "5")) for code in codes), (method, path)
            assert operation.get("summary"), (method, path)


def test_swagger_ui_is_served(client: Any) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_document_states_the_bounds_of_ids_keys_and_levels(client: Any) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]

    event = schemas["Event"]["properties"]
    assert event["eventId"]["pattern"] == "^[A-Za-z0-9_.:-]{1,64}$"
    assert (event["userId"]["minLength"], event["userId"]["maxLength"]) == (1, 128)
    assert schemas["Restore"]["properties"]["idempotencyKey"]["maxLength"] == 255
    assert schemas["StreakDefinition"]["properties"]["events"]["items"]["maxLength"] == 64
    level = schemas["Level"]["properties"]
    assert (level["level"]["minimum"], level["level"]["maximum"]) == (1, 1_000_000)
    assert (level["name"]["minLength"], level["minPoints"]["minimum"]) == (1, 0)
