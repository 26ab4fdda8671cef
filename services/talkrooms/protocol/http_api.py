"""The HTTP contract of /api/v1: the one SpecTree that every capability's routes
decorate, so `/api/v1/openapi.json` (served by web/api.py) is generated from the code,
and the error body all of them answer with.

Only routes decorated with `API_SPEC.validate(...)` appear in the document (strict mode):
/api/health, /api/rooms and /api/stats predate it and keep their own shapes. Request
bodies are validated by the routes themselves (`parse_body`), so that a refusal has the
same `{error, code, details}` shape as every other error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

API_VERSION = "v1"
API_PREFIX = f"/api/{API_VERSION}"

API_SPEC = SpecTree(
    "flask",
    title="TalkRooms API",
    version=API_VERSION,
    mode="strict",
    annotations=False,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="JWT"),
        )
    ],
)

Model = TypeVar("Model", bound=BaseModel)


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every refusal of /api/v1: a text to show and a stable code to act on."""

    error: str
    code: str
    details: list[FieldProblem] | None = None


class InvalidRequest(Exception):
    """The body is not the JSON object the route expects (HTTP 400, code invalid_request)."""

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


def parse_body(model: type[Model], payload: Any) -> Model:
    """`payload` (request.get_json(silent=True)) as `model`, or InvalidRequest naming the
    fields at fault (never echoing their values: one of them may be a password)."""
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidRequest("Some fields are missing or invalid", details) from exc
