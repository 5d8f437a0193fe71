"""`/pipelines/...`: pipelines, stages, opportunities and their comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .catalog import ADMIN_IDS, CONTACT_ID_BASE, PIPELINE_FIELDS, TOKEN_ADMIN
from .params import ApiError, as_int, json_object, paging, path_int
from .pipelines import PRIORITIES, STATUSES, Pipeline

if TYPE_CHECKING:
    from .provider import Chatrace, RouteSpec


def pipeline_routes(api: Chatrace) -> list[RouteSpec]:
    store = api.opportunities

    def pipeline_of(request: Request) -> Pipeline:
        return store.pipeline(path_int(request, "pipeline_id"))

    def opportunity_of(request: Request) -> tuple[Pipeline, int]:
        pipeline = pipeline_of(request)
        return pipeline, pipeline.k_of_id(path_int(request, "opportunity_id"))

    async def pipelines(request: Request) -> Response:
        offset, limit = paging(request)
        return api.ok({"data": [p.summary() for p in store.pipelines][offset:offset + limit]})

    async def pipeline(request: Request) -> Response:
        return api.ok(pipeline_of(request).summary())

    async def stages(request: Request) -> Response:
        return api.ok({"data": [{"id": sid, "name": name} for sid, name in pipeline_of(request).stages]})

    async def custom_fields(request: Request) -> Response:
        return api.ok(list(PIPELINE_FIELDS[pipeline_of(request).id]))

    async def opportunities(request: Request) -> Response:
        """Ordered by id ascending; `contact_id` of nobody gives an empty page (assumed)."""
        pipeline = pipeline_of(request)
        offset, limit = paging(request)
        contact_id = request.query_params.get("contact_id")
        contact_k = None
        if contact_id is not None:
            contact_k = as_int(contact_id, "Invalid contact_id") - CONTACT_ID_BASE
        return api.ok({"data": pipeline.page(offset, limit, contact_k)})

    async def create(request: Request) -> Response:
        pipeline = pipeline_of(request)
        body = await json_object(request)
        if "contact_id" not in body or not isinstance(body.get("title"), str):
            raise ApiError(400, "Invalid parameters: contact_id and title are required")
        contact_k = api.contacts.k_of_id(as_int(body["contact_id"], "Invalid contact_id"))
        k = pipeline.create(contact_k, _fields(pipeline, body), TOKEN_ADMIN)
        return api.ok({"data": [pipeline.get(k)]})

    async def opportunity(request: Request) -> Response:
        pipeline, k = opportunity_of(request)
        return api.ok(pipeline.get(k))

    async def update(request: Request) -> Response:
        pipeline, k = opportunity_of(request)
        pipeline.update(k, _fields(pipeline, await json_object(request)), TOKEN_ADMIN)
        return api.ok({"success": True})

    async def delete(request: Request) -> Response:
        pipeline, k = opportunity_of(request)
        pipeline.delete(k)
        return api.ok({"success": True})

    async def comments(request: Request) -> Response:
        """Oldest first (assumed)."""
        pipeline, k = opportunity_of(request)
        offset, limit = paging(request)
        return api.ok({"data": pipeline.comments(k)[offset:offset + limit]})

    async def add_comment(request: Request) -> Response:
        pipeline, k = opportunity_of(request)
        text = (await json_object(request)).get("content")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Invalid parameters: content is required")
        return api.ok(pipeline.add_comment(k, store.new_comment_id(), text, TOKEN_ADMIN))

    async def delete_comment(request: Request) -> Response:
        pipeline, k = opportunity_of(request)
        pipeline.delete_comment(k, path_int(request, "comment_id"))
        return api.ok({"success": True})

    one = "/pipelines/{pipeline_id}/opportunities/{opportunity_id}"
    return [
        ("/pipelines/", pipelines, ["GET"]),
        ("/pipelines", pipelines, ["GET"]),  # the swagger's trailing slash is optional (assumed)
        ("/pipelines/{pipeline_id}", pipeline, ["GET"]),
        ("/pipelines/{pipeline_id}/stages", stages, ["GET"]),
        ("/pipelines/{pipeline_id}/custom_fields", custom_fields, ["GET"]),
        ("/pipelines/{pipeline_id}/opportunities", opportunities, ["GET"]),
        ("/pipelines/{pipeline_id}/opportunities", create, ["POST"]),
        (one, opportunity, ["GET"]),
        (one, update, ["POST"]),
        (one, delete, ["DELETE"]),
        (one + "/comments", comments, ["GET"]),
        (one + "/comments", add_comment, ["POST"]),
        (one + "/comments/{comment_id}", delete_comment, ["DELETE"]),
    ]


def _fields(pipeline: Pipeline, body: dict[str, Any]) -> dict[str, Any]:
    """The opportunity fields a create or update body sets. `custom_fields` is accepted and
    not kept: the read model has none (assumed)."""
    fields: dict[str, Any] = {}
    for key in ("title", "description"):
        if key in body:
            if not isinstance(body[key], str):
                raise ApiError(400, f"Invalid parameters: {key} must be a string")
            fields[key] = body[key]
    if "value" in body:
        value = body["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ApiError(400, "Invalid parameters: value must be a non-negative number")
        fields["value"] = value
    for key, allowed in (("status", STATUSES), ("priority", PRIORITIES)):
        if key in body:
            if body[key] not in allowed:
                raise ApiError(400, f"Invalid parameters: {key} must be one of {', '.join(allowed)}")
            fields[key] = body[key]
    if "stage_id" in body:
        fields["stage"] = pipeline.stage(as_int(body["stage_id"], "Invalid parameters: stage_id"))
    if "assigned_admins" in body:
        admins = body["assigned_admins"]
        if not isinstance(admins, list) or any(a not in ADMIN_IDS for a in admins):
            raise ApiError(400, "Invalid parameters: assigned_admins must list admin ids")
        fields["assigned_admins"] = list(dict.fromkeys(admins))
    if not isinstance(body.get("custom_fields", []), list):
        raise ApiError(400, "Invalid parameters: custom_fields must be a list")
    return fields
