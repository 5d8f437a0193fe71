"""The Whautomate endpoints (CONTRACT.md section 3), one handler each."""

from __future__ import annotations

import re

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crmsync.sandbox.clock import iso_ms, now_ms
from crmsync.sandbox.population import Person, Population
from crmsync.sandbox.provider import Handler, Provider, page_response
from crmsync.sandbox.providers.whautomate.requests import (
    Rejected, contact_fields, contact_filters, listing, location_filter, not_found,
    search_text, segment_fields, tag_list, text_field, wanted_tags,
)
from crmsync.sandbox.providers.whautomate.state import WhautomateState
from crmsync.sandbox.table import Table


class Handlers:
    def __init__(self, state: WhautomateState, population: Population) -> None:
        self.state = state
        self.population = population

    def endpoints(self) -> list[tuple[str, Handler, list[str]]]:
        return [
            ("/contacts", self.list_contacts, ["GET"]),
            ("/contacts", self.create_contact, ["POST"]),
            ("/contacts/{id}", self.get_contact, ["GET"]),
            ("/contacts/{id}", self.update_contact, ["PUT"]),
            ("/contacts/{id}", self.delete_contact, ["DELETE"]),
            ("/contacts/{id}/tags/add", self.add_contact_tags, ["POST"]),
            ("/contacts/{id}/tags/remove", self.remove_contact_tags, ["POST"]),
            ("/contactTags", self.list_contact_tags, ["GET"]),
            ("/contactTags", self.create_contact_tag, ["POST"]),
            ("/contactTags/{id}", self.get_contact_tag, ["GET"]),
            ("/clients", self.list_clients, ["GET"]),
            ("/clients/{id}", self.get_client, ["GET"]),
            ("/clients/{id}/tags/add", self.add_client_tags, ["POST"]),
            ("/clients/{id}/tags/remove", self.remove_client_tags, ["POST"]),
            ("/segments", self.list_segments, ["GET"]),
            ("/segments", self.create_segment, ["POST"]),
            ("/segments/{id}", self.get_segment, ["GET"]),
            ("/segments/{id}", self.delete_segment, ["DELETE"]),
            ("/messages/{id}", self.list_messages, ["GET"]),
        ]

    def _k(self, table: Table, request: Request) -> int:
        k = self.state.find(table, request.path_params["id"])
        if k is None:
            raise not_found()
        return k

    # -- contacts ---------------------------------------------------------------------------
    async def list_contacts(self, request: Request) -> Response:
        wanted = wanted_tags(request)
        candidates = self.state.tag_candidates(wanted) if wanted else None
        tests = contact_filters(request)
        return page_response(listing(self.state.contacts, request, tests, candidates))

    async def create_contact(self, request: Request) -> Response:
        """Missing fields take the defaults of a contact added by hand: a Subscriber on
        WhatsApp at the account's first location (assumed)."""
        fields = contact_fields(await Provider.json_body(request), ("name", "phoneNumber"))
        person = self._person_for(fields)
        if self.state.contact_of_person(person.index) is not None:
            raise Rejected(400, {"message": "Contact already exists"})
        now = now_ms()
        defaults = {"email": None, "stage": "Subscriber", "channel": "whatsapp", "tags": [],
                    "customFields": {}, "notes": "", "lastActivity": iso_ms(now),
                    "location": {"id": self.state.locations[0]["id"]}}
        k = self.state.create_contact(person, {**defaults, **fields}, now)
        return JSONResponse(self.state.contacts.get(k))

    def _person_for(self, fields: dict) -> Person:
        """The person behind a new contact's phone; a valid phone nobody has is a new person,
        anything else is refused (assumed: a WhatsApp CRM needs a reachable number)."""
        digits = re.sub(r"\D", "", fields["phoneNumber"])
        index = self.population.person_from_phone(digits) if digits else None
        if index is not None:
            return self.population.person(index)
        try:
            number = phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise Rejected(400, {"message": "Invalid phone number"})
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return self.population.adopt(e164, fields["name"].split()[0], fields.get("email"))

    async def get_contact(self, request: Request) -> Response:
        return JSONResponse(self.state.contacts.get(self._k(self.state.contacts, request)))

    async def update_contact(self, request: Request) -> Response:
        """Fields given replace the stored ones, whole (customFields too); a PUT always
        bumps updatedAt (assumed)."""
        k = self._k(self.state.contacts, request)
        fields = contact_fields(await Provider.json_body(request), ())
        return JSONResponse(self.state.update_contact(k, fields, now_ms()))

    async def delete_contact(self, request: Request) -> Response:
        self.state.delete_contact(self._k(self.state.contacts, request))
        return JSONResponse({"success": True})  # the segments' DELETE answer (assumed)

    async def add_contact_tags(self, request: Request) -> Response:
        k = self._k(self.state.contacts, request)
        tags = tag_list(await Provider.json_body(request))
        return JSONResponse(self.state.contact_tags_change(k, tags, [], now_ms()))

    async def remove_contact_tags(self, request: Request) -> Response:
        k = self._k(self.state.contacts, request)
        tags = tag_list(await Provider.json_body(request))
        return JSONResponse(self.state.contact_tags_change(k, [], tags, now_ms()))

    async def list_messages(self, request: Request) -> Response:
        """Every message of the contact, oldest first, unpaged (assumed)."""
        return JSONResponse(self.state.messages(self._k(self.state.contacts, request)))

    # -- contact tags -----------------------------------------------------------------------
    async def list_contact_tags(self, request: Request) -> Response:
        tests = search_text(request, ("name", "canonical"))
        return page_response(listing(self.state.contact_tags, request, tests))

    async def create_contact_tag(self, request: Request) -> Response:
        name = text_field(await Provider.json_body(request), "name")
        if self.state.tag_named(name) is not None:
            raise Rejected(400, {"message": "Contact tag already exists"})  # (assumed)
        return JSONResponse(self.state.create_tag(name, now_ms()))

    async def get_contact_tag(self, request: Request) -> Response:
        return JSONResponse(self.state.contact_tags.get(self._k(self.state.contact_tags, request)))

    # -- clients ----------------------------------------------------------------------------
    async def list_clients(self, request: Request) -> Response:
        return page_response(listing(self.state.clients, request, []))

    async def get_client(self, request: Request) -> Response:
        return JSONResponse(self.state.clients.get(self._k(self.state.clients, request)))

    async def add_client_tags(self, request: Request) -> Response:
        k = self._k(self.state.clients, request)
        tags = tag_list(await Provider.json_body(request))
        return JSONResponse(self.state.client_tags_change(k, tags, [], now_ms()))

    async def remove_client_tags(self, request: Request) -> Response:
        k = self._k(self.state.clients, request)
        tags = tag_list(await Provider.json_body(request))
        return JSONResponse(self.state.client_tags_change(k, [], tags, now_ms()))

    # -- segments ---------------------------------------------------------------------------
    async def list_segments(self, request: Request) -> Response:
        tests = location_filter(request) + search_text(request, ("name",))
        return page_response(listing(self.state.segments, request, tests))

    async def create_segment(self, request: Request) -> Response:
        body = await Provider.json_body(request)
        fields = segment_fields(body, self.state.locations[0]["id"])
        return JSONResponse(self.state.create_segment(fields, now_ms()))

    async def get_segment(self, request: Request) -> Response:
        return JSONResponse(self.state.segments.get(self._k(self.state.segments, request)))

    async def delete_segment(self, request: Request) -> Response:
        self.state.segments.delete(self._k(self.state.segments, request))
        return JSONResponse({"success": True})
