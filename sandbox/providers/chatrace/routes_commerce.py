"""Ecommerce: products, carts and orders (`/products/...`, `/contacts/{id}/cart|order|pay`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from .params import ApiError, as_int, form_field, json_object, path_int

if TYPE_CHECKING:
    from .provider import Chatrace, RouteSpec


def commerce_routes(api: Chatrace) -> list[RouteSpec]:
    commerce, contacts = api.commerce, api.contacts

    def contact_k(request: Request) -> int:
        return contacts.k_of_id(path_int(request, "contact_id"))

    def order_of(request: Request) -> int:
        return commerce.order_of(contact_k(request), request.path_params["order_id"])

    async def product(request: Request) -> Response:
        return api.ok(commerce.render_product(commerce.product(path_int(request, "product_id"))))

    async def update_product(request: Request) -> Response:
        updated = commerce.update_product(path_int(request, "product_id"), await json_object(request))
        return api.ok({"success": True, "updated": updated})

    async def send_products(request: Request) -> Response:
        """Accepted without effect on the data, like every send (messages are not emulated)."""
        contact_k(request)
        ids = (await json_object(request)).get("product_id")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "Invalid parameters: product_id must be a list of product ids")
        for product_id in ids:
            commerce.product(as_int(product_id, "Invalid parameters: product_id"))
        return api.ok({"success": True})

    async def cart(request: Request) -> Response:
        k = contact_k(request)
        latest = commerce.latest(k)
        if latest is None:
            return api.ok(commerce.empty_cart(k))
        return api.ok(commerce.render(commerce.table.get(latest)))

    async def clear_cart(request: Request) -> Response:
        commerce.clear_cart(contact_k(request))
        return api.ok({"success": True})

    async def add_to_cart(request: Request) -> Response:
        k, product_id = contact_k(request), path_int(request, "product_id")
        quantity = as_int(await form_field(request, "quantity"), "Invalid parameters: quantity")
        commerce.add_to_cart(k, product_id, quantity)
        return api.ok({"success": True})

    async def remove_from_cart(request: Request) -> Response:
        commerce.remove_from_cart(contact_k(request), path_int(request, "product_id"))
        return api.ok({"success": True})

    async def order(request: Request) -> Response:
        return api.ok(commerce.render(commerce.table.get(order_of(request))))

    async def set_status(request: Request) -> Response:
        k = order_of(request)
        status = (await json_object(request)).get("status")
        commerce.set_status(k, as_int(status, "Order status must be 6, 7, 10, or 13"))
        return api.ok({"success": True})

    async def pay(request: Request) -> Response:
        k = order_of(request)
        amount = as_int(await form_field(request, "amount_received"),
                        "Invalid parameters: amount_received")
        commerce.pay(k, amount)
        return api.ok({"success": True})

    return [
        ("/products/{product_id}", product, ["GET"]),
        ("/products/{product_id}", update_product, ["POST"]),
        ("/contacts/{contact_id}/send/products", send_products, ["POST"]),
        ("/contacts/{contact_id}/cart", cart, ["GET"]),
        ("/contacts/{contact_id}/cart", clear_cart, ["DELETE"]),
        ("/contacts/{contact_id}/cart/{product_id}", add_to_cart, ["POST"]),
        ("/contacts/{contact_id}/cart/{product_id}", remove_from_cart, ["DELETE"]),
        ("/contacts/{contact_id}/order/{order_id}", order, ["GET"]),
        ("/contacts/{contact_id}/order/{order_id}", set_status, ["POST"]),
        ("/contacts/{contact_id}/pay/{order_id}", pay, ["POST"]),
    ]
