"""`/contacts/...`: read, find, create contacts; their tags and custom fields; sending."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from crmsync.sandbox.table import Record

from .catalog import FLOW_IDS
from .contacts import GENDER_CODES, digits_of
from .params import ApiError, form_field, json_object, path_int

if TYPE_CHECKING:
    from .provider import Chatrace, RouteSpec

FILE_TYPES = ("image", "video", "audio", "file")  # send/file types (assumed)
MIN_PHONE_DIGITS = 8


def contact_routes(api: Chatrace) -> list[RouteSpec]:
    contacts = api.contacts

    def contact_k(request: Request) -> int:
        return contacts.k_of_id(path_int(request, "contact_id"))

    def tag_of(request: Request) -> int:
        return contacts.tag(path_int(request, "tag_id"))["id"]

    def field_of(request: Request) -> int:
        return contacts.field(path_int(request, "custom_field_id"))["id"]

    async def find(request: Request) -> Response:
        field_id, value = request.query_params.get("field_id"), request.query_params.get("value")
        if not field_id or value is None:
            raise ApiError(400, "Invalid parameters: field_id and value are required")
        return api.ok({"data": [contacts.render(r) for r in contacts.find(field_id, value)]})

    async def get_contact(request: Request) -> Response:
        return api.ok(contacts.render(contacts.get(contact_k(request))))

    async def create_contact(request: Request) -> Response:
        """Creates the contact, or finds the one with this phone (assumed), then runs the
        actions; answers the contact (assumed: the swagger gives no response model)."""
        body = await json_object(request)
        phone = body.get("phone")
        wanted = digits_of(phone) if isinstance(phone, str) else ""
        if len(wanted) < MIN_PHONE_DIGITS:
            raise ApiError(400, "Invalid parameters: phone is required")
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise ApiError(400, "Invalid parameters: email")
        tags, fields = _actions(api, body.get("actions", []))
        k = contacts.k_of_person(api.population.person_from_phone(wanted))
        if k is None:
            k = _add_contact(api, body, wanted)
        tag_ids = [contacts.tag_by_name(name) or contacts.create_tag(name) for name in tags]
        if tag_ids or fields:
            contacts.update(k, lambda r: _apply(r, tag_ids, fields))
        return api.ok(contacts.render(contacts.get(k)))

    async def contact_tags(request: Request) -> Response:
        return api.ok(contacts.render(contacts.get(contact_k(request)))["tags"])

    async def add_tag(request: Request) -> Response:
        k, tag_id = contact_k(request), tag_of(request)
        if tag_id not in contacts.get(k)["tags"]:
            contacts.update(k, lambda r: r["tags"].append(tag_id))
        return api.ok({"success": True})

    async def remove_tag(request: Request) -> Response:
        k, tag_id = contact_k(request), tag_of(request)
        if tag_id in contacts.get(k)["tags"]:
            contacts.update(k, lambda r: r["tags"].remove(tag_id))
        return api.ok({"success": True})

    async def custom_fields(request: Request) -> Response:
        return api.ok(contacts.field_values(contacts.get(contact_k(request))))

    async def custom_field(request: Request) -> Response:
        k, fid = contact_k(request), field_of(request)
        return api.ok(contacts.field_value(contacts.get(k), fid))

    async def set_custom_field(request: Request) -> Response:
        k, fid = contact_k(request), field_of(request)
        value = contacts.coerce(fid, await form_field(request, "value"))
        contacts.update(k, lambda r: r["fields"].__setitem__(fid, value))
        return api.ok({"success": True})

    async def unset_custom_field(request: Request) -> Response:
        k, fid = contact_k(request), field_of(request)
        if fid in contacts.get(k)["fields"]:
            contacts.update(k, lambda r: r["fields"].pop(fid))
        return api.ok({"success": True})

    # Sending is accepted and has no effect on the data (messages are not emulated).
    async def send_flow(request: Request) -> Response:
        contact_k(request)
        if path_int(request, "flow_id") not in FLOW_IDS:
            raise ApiError(404, "Flow not found")
        return api.ok({"success": True})

    async def send_text(request: Request) -> Response:
        contact_k(request)
        text = (await json_object(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Invalid parameters: text is required")
        return api.ok({"success": True})

    async def send_file(request: Request) -> Response:
        contact_k(request)
        body = await json_object(request)
        if not isinstance(body.get("url"), str) or body.get("type") not in FILE_TYPES:
            raise ApiError(400, f"Invalid parameters: url and type ({', '.join(FILE_TYPES)}) "
                                "are required")
        return api.ok({"success": True})

    async def send_content(request: Request) -> Response:
        contact_k(request)
        body = await json_object(request)
        if not all(isinstance(body.get(key, []), list) for key in ("messages", "actions")):
            raise ApiError(400, "Invalid parameters: messages and actions are lists")
        return api.ok({"success": True})

    return [
        ("/contacts", create_contact, ["POST"]),
        ("/contacts/find_by_custom_field", find, ["GET"]),
        ("/contacts/{contact_id}", get_contact, ["GET"]),
        ("/contacts/{contact_id}/tags", contact_tags, ["GET"]),
        ("/contacts/{contact_id}/tags/{tag_id}", add_tag, ["POST"]),
        ("/contacts/{contact_id}/tags/{tag_id}", remove_tag, ["DELETE"]),
        ("/contacts/{contact_id}/custom_fields", custom_fields, ["GET"]),
        ("/contacts/{contact_id}/custom_fields/{custom_field_id}", custom_field, ["GET"]),
        ("/contacts/{contact_id}/custom_fields/{custom_field_id}", set_custom_field, ["POST"]),
        ("/contacts/{contact_id}/custom_fields/{custom_field_id}", unset_custom_field, ["DELETE"]),
        ("/contacts/{contact_id}/send/text", send_text, ["POST"]),
        ("/contacts/{contact_id}/send/file", send_file, ["POST"]),
        ("/contacts/{contact_id}/send_content", send_content, ["POST"]),
        ("/contacts/{contact_id}/send/{flow_id}", send_flow, ["POST"]),
    ]


def _actions(api: Chatrace, actions: Any) -> tuple[list[str], dict[int, Any]]:
    """Validate POST /contacts actions before anything is written: (tag names, field values).
    A tag named there is created when missing; an unknown field or flow is a 400 (assumed)."""
    if not isinstance(actions, list):
        raise ApiError(400, "Invalid parameters: actions must be a list")
    tags: list[str] = []
    fields: dict[int, Any] = {}
    for action in actions:
        kind = action.get("action") if isinstance(action, dict) else None
        if kind == "add_tag" and isinstance(action.get("tag_name"), str) and action["tag_name"].strip():
            tags.append(action["tag_name"])
        elif kind == "set_field_value" and isinstance(action.get("field_name"), str):
            field = api.contacts.field_by_name(action["field_name"])
            if field is None:
                raise ApiError(400, f"Invalid parameters: unknown field {action['field_name']!r}")
            fields[field["id"]] = api.contacts.coerce(field["id"], action.get("value"))
        elif kind == "send_flow" and action.get("flow_id") in FLOW_IDS:
            continue
        else:
            raise ApiError(400, f"Invalid parameters: bad action {action!r}")
    return tags, fields


def _add_contact(api: Chatrace, body: dict[str, Any], wanted: str) -> int:
    """A new contact for the person with this phone (adopted when nobody has it)."""
    population = api.population
    index = population.person_from_phone(wanted)
    names = {key: body[key] for key in ("first_name", "last_name") if isinstance(body.get(key), str)}
    person = population.person(index) if index is not None else population.adopt(
        f"+{wanted}", names.get("first_name", ""), body.get("email"))
    if isinstance(body.get("gender"), str):
        names["gender"] = GENDER_CODES.get(body["gender"].lower(), 0)
    return api.contacts.create(person, body["phone"], body.get("email"), random.Random(person.index),
                               interacted=False, overrides=names)


def _apply(record: Record, tag_ids: list[int], fields: dict[int, Any]) -> None:
    record["tags"] += [t for t in dict.fromkeys(tag_ids) if t not in record["tags"]]
    record["fields"].update(fields)
