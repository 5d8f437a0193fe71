"""`/accounts/...`: the business account, its admins, tags, flows, custom and bot fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from crmsync.sandbox.clock import mix

from .catalog import ACCOUNT_CREATED_S, ACCOUNT_NAME, ADMINS, FLOWS, PAGE_ID, TEXT
from .contacts import coerce
from .params import ApiError, form_field, json_object, path_int

if TYPE_CHECKING:
    from .provider import Chatrace, RouteSpec


def account_routes(api: Chatrace) -> list[RouteSpec]:
    contacts = api.contacts

    async def me(request: Request) -> Response:
        return api.ok({"page_id": PAGE_ID, "name": ACCOUNT_NAME, "active": True,
                       "created": ACCOUNT_CREATED_S, "total_users": len(contacts.table)})

    async def admins(request: Request) -> Response:
        return api.ok([dict(admin, full_name=f"{admin['first_name']} {admin['last_name']}",
                            profile_pic=f"https://cdn.chatrace.test/admins/{admin['id']}.jpg")
                       for admin in ADMINS])

    async def tags(request: Request) -> Response:
        return api.ok([{"id": tag_id, "name": name} for tag_id, name in contacts.tags.items()])

    async def create_tag(request: Request) -> Response:
        return api.ok({"id": contacts.create_tag(await form_field(request, "name"))})

    async def tag(request: Request) -> Response:
        return api.ok(contacts.tag(path_int(request, "tag_id")))

    async def delete_tag(request: Request) -> Response:
        contacts.delete_tag(path_int(request, "tag_id"))
        return api.ok({"success": True})

    async def tag_by_name(request: Request) -> Response:
        tag_id = contacts.tag_by_name(request.path_params["tag_name"])
        if tag_id is None:
            raise ApiError(404, "Tag not found")
        return api.ok(contacts.tag(tag_id))

    async def flows(request: Request) -> Response:
        return api.ok(list(FLOWS))

    async def custom_fields(request: Request) -> Response:
        return api.ok(list(contacts.fields.values()))

    async def create_custom_field(request: Request) -> Response:
        body = await json_object(request)
        name, ftype = body.get("name"), body.get("type", TEXT)  # text unless said (assumed)
        if not isinstance(name, str) or not isinstance(ftype, int) or isinstance(ftype, bool):
            raise ApiError(400, "Invalid parameters: name (string) and type (integer) expected")
        field = contacts.create_field(name, ftype)
        return api.ok({"id": field["id"], "name": field["name"]})

    async def custom_field(request: Request) -> Response:
        return api.ok(contacts.field(path_int(request, "custom_field_id")))

    async def custom_field_by_name(request: Request) -> Response:
        field = contacts.field_by_name(request.path_params["custom_field_name"])
        if field is None:
            raise ApiError(404, "Custom field not found")
        return api.ok(field)

    def bot_field_of(request: Request) -> dict:
        field = api.bot_fields.get(path_int(request, "bot_field_id"))
        if field is None:
            raise ApiError(404, "Bot field not found")
        return field

    async def bot_field(request: Request) -> Response:
        return api.ok(bot_field_of(request))

    async def set_bot_field(request: Request) -> Response:
        field = bot_field_of(request)
        field["value"] = coerce(field["type"], await form_field(request, "value"))
        return api.ok({"success": True})

    async def unset_bot_field(request: Request) -> Response:
        bot_field_of(request)["value"] = None
        return api.ok({"success": True})

    async def single_use_link(request: Request) -> Response:
        # Templates are not emulated: any id gets a fresh link (assumed).
        template_id = path_int(request, "template_id")
        api.links_made += 1
        token = f"{mix(api.links_made, template_id) & 0xFFFFFFFFFF:010x}"
        return api.ok({"link": f"https://app.aiprlassist.com/t/{template_id}/{token}"})

    return [
        ("/accounts/me", me, ["GET"]),
        ("/accounts/admins", admins, ["GET"]),
        ("/accounts/tags", tags, ["GET"]),
        ("/accounts/tags", create_tag, ["POST"]),
        ("/accounts/tags/name/{tag_name:path}", tag_by_name, ["GET"]),
        ("/accounts/tags/{tag_id}", tag, ["GET"]),
        ("/accounts/tags/{tag_id}", delete_tag, ["DELETE"]),
        ("/accounts/flows", flows, ["GET"]),
        ("/accounts/custom_fields", custom_fields, ["GET"]),
        ("/accounts/custom_fields", create_custom_field, ["POST"]),
        ("/accounts/custom_fields/name/{custom_field_name:path}", custom_field_by_name, ["GET"]),
        ("/accounts/custom_fields/{custom_field_id}", custom_field, ["GET"]),
        ("/accounts/bot_fields/{bot_field_id}", bot_field, ["GET"]),
        ("/accounts/bot_fields/{bot_field_id}", set_bot_field, ["POST"]),
        ("/accounts/bot_fields/{bot_field_id}", unset_bot_field, ["DELETE"]),
        ("/accounts/template/{template_id}/generateSingleUseLink", single_use_link, ["POST"]),
    ]
