"""Chatrace products, orders and carts.

About half the generated contacts have one order; generated order k belongs to contact
`owners[k]` (sorted), and every order's id is str(ORDER_ID_BASE + k). A contact's cart is
their latest order: adding a product to a cart that is no longer open (status 0) starts a
new order, and the previous one stays reachable by its order_id only.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from crmsync.sandbox.clock import BASE_END_MS, BASE_START_MS, Timeline, mix, mix_array, now_ms, sql_time
from crmsync.sandbox.table import Record, Table

from .catalog import (AWAITING_PAYMENT, CANCELLED, CATEGORY_IDS, CONTACT_ID_BASE, COUPONS,
                      CURRENCY, DELIVERED, FINAL_STATUSES, NEXT_STATUSES, OPEN_CART, ORDER_ID_BASE,
                      PAGE_ID, PAID, PRODUCT_ID_BASE, PRODUCTS, SETTABLE_STATUSES)
from .contacts import ContactStore
from .params import ApiError

SALT = 0xC4A7_0003
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
GENERATED_STATUSES = ((OPEN_CART, AWAITING_PAYMENT, PAID, DELIVERED, CANCELLED),
                      (0.20, 0.15, 0.20, 0.35, 0.10))
PRODUCT_KEYS = ("id", "name", "price", "sale_price", "category_id", "category_name", "stock",
                "short_description", "image", "created_at")
NO_ORDER = "The order ID doesn't exist"


class Commerce:
    def __init__(self, contacts: ContactStore) -> None:
        self.contacts = contacts
        self.salt = contacts.population.seed * 1_000_003 + SALT
        n = contacts.table.n_base
        has_order = mix_array(np.arange(n, dtype=np.uint64), self.salt) % np.uint64(2) == 0
        self.owners = np.flatnonzero(has_order)
        self.table = Table(len(self.owners), self._generate, self.id_of,
                           Timeline(len(self.owners), self.salt))
        self._created_of: dict[int, list[int]] = {}  # contact k -> orders created later
        self.products = {PRODUCT_ID_BASE + i: self._product(i) for i in range(len(PRODUCTS))}

    # -- products -------------------------------------------------------------------------
    def _product(self, i: int) -> dict[str, Any]:
        name, category, price = PRODUCTS[i]
        rng = random.Random(mix(i, self.salt + 1))
        product_id = PRODUCT_ID_BASE + i
        return {
            "id": product_id, "name": name, "price": price,
            "sale_price": price * 8 // 10 if rng.random() < 0.25 else 0,  # 0: not on sale (assumed)
            "category_id": CATEGORY_IDS[category], "category_name": category,
            "stock": rng.randint(0, 500), "short_description": f"{name}, {category.lower()}",
            "image": f"https://cdn.chatrace.test/products/{product_id}.jpg",
            "created_at": sql_time(BASE_START_MS + rng.randint(0, 30) * DAY_MS), "active": True,
        }

    def product(self, product_id: int) -> dict[str, Any]:
        if product_id not in self.products:
            raise ApiError(404, "Product not found")
        return self.products[product_id]

    @staticmethod
    def render_product(product: dict[str, Any]) -> dict[str, Any]:
        """The swagger's Product model (`active` is kept but not part of it)."""
        return {key: product[key] for key in PRODUCT_KEYS}

    def update_product(self, product_id: int, body: dict[str, Any]) -> bool:
        """Apply `active`, `stock`, `price`; other keys are ignored (assumed)."""
        product = self.product(product_id)
        changes = {}
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise ApiError(400, "Invalid parameters: active must be a boolean")
            changes["active"] = body["active"]
        for key in ("stock", "price"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ApiError(400, f"Invalid parameters: {key} must be a non-negative integer")
                changes[key] = value
        updated = any(product[key] != value for key, value in changes.items())
        product.update(changes)
        return updated

    @staticmethod
    def line_item(product: dict[str, Any], amount: int) -> dict[str, Any]:
        on_sale = 0 < product["sale_price"] < product["price"]
        return {"id": product["id"], "name": product["name"], "img": product["image"],
                "price": product["sale_price"] if on_sale else product["price"], "amount": amount,
                "descr_min": product["short_description"], "manufacturer": 0, "variant": "",
                "user_msg": ""}

    # -- orders ---------------------------------------------------------------------------
    @staticmethod
    def id_of(k: int) -> str:
        return str(ORDER_ID_BASE + k)

    def _generate(self, k: int) -> Record:
        contact_k = int(self.owners[k])
        rng = random.Random(mix(k, self.salt + 2))
        subscribed = self.contacts.table.timeline.created_ms(contact_k)
        created = min(subscribed + rng.randint(HOUR_MS, 90 * DAY_MS), BASE_END_MS - 2 * DAY_MS)
        updated = min(created + rng.randint(0, 30 * DAY_MS), BASE_END_MS - 1000)
        record = self._new_order(k, contact_k, rng.choices(*GENERATED_STATUSES)[0], created, rng)
        record["updated_at"] = sql_time(updated)
        return record

    def _new_order(self, k: int, contact_k: int, status: int, created_ms: int,
                   rng: random.Random | None, lines: list[dict[str, Any]] | None = None) -> Record:
        """An order; with `rng`, 1-3 random products and sometimes a coupon."""
        coupon = None
        if rng is not None:
            picks = rng.sample(sorted(self.products), rng.randint(1, 3))
            lines = [self.line_item(self.products[p], rng.randint(1, 3)) for p in picks]
            coupon = rng.choice(sorted(COUPONS)) if rng.random() < 0.15 else None
        return {"order_id": self.id_of(k), "page_id": PAGE_ID, "user_id": CONTACT_ID_BASE + contact_k,
                "currency": CURRENCY, "coupon": coupon, "line_items": lines or [], "status": status,
                "created_at": sql_time(created_ms), "updated_at": sql_time(created_ms)}

    def render(self, record: Record) -> dict[str, Any]:
        """The swagger's Order model (totals in cents) plus status, created_at, updated_at."""
        subtotal = sum(line["price"] * line["amount"] for line in record["line_items"])
        discount = subtotal * COUPONS.get(record["coupon"], 0) // 100
        contact = self.contacts.get(record["user_id"] - CONTACT_ID_BASE)
        return {
            "order_id": record["order_id"], "page_id": record["page_id"], "user_id": record["user_id"],
            "currency": record["currency"], "total": subtotal - discount, "subtotal": subtotal,
            "total_items": sum(line["amount"] for line in record["line_items"]),
            "coupon_discount": discount, "coupon": record["coupon"],
            "line_items": record["line_items"], "contact": self.contacts.render(contact),
            "status": record["status"], "created_at": record["created_at"],
            "updated_at": record["updated_at"],
        }

    def empty_cart(self, contact_k: int) -> dict[str, Any]:
        """What GET cart answers for a contact who never ordered (assumed)."""
        contact = self.contacts.get(contact_k)
        return {"order_id": None, "page_id": PAGE_ID, "user_id": contact["id"], "currency": CURRENCY,
                "total": 0, "subtotal": 0, "total_items": 0, "coupon_discount": 0, "coupon": None,
                "line_items": [], "contact": self.contacts.render(contact)}

    def of_contact(self, contact_k: int) -> list[int]:
        """Live order ks of one contact, oldest first."""
        lo = int(np.searchsorted(self.owners, contact_k, side="left"))
        hi = int(np.searchsorted(self.owners, contact_k, side="right"))
        ks = list(range(lo, hi)) + self._created_of.get(contact_k, [])
        return [k for k in ks if self.table.exists(k)]

    def latest(self, contact_k: int) -> int | None:
        ks = self.of_contact(contact_k)
        return ks[-1] if ks else None

    def order_of(self, contact_k: int, order_id: str) -> int:
        """The order k of this contact's order `order_id`; 404 otherwise."""
        k = int(order_id) - ORDER_ID_BASE if order_id.isdigit() else -1
        record = self.table.get(k)
        if record is None or record["user_id"] != CONTACT_ID_BASE + contact_k:
            raise ApiError(404, NO_ORDER)
        return k

    def _put(self, k: int, **changes: Any) -> None:
        stamp = now_ms()
        self.table.put(k, dict(self.table.get(k), **changes, updated_at=sql_time(stamp)), stamp)

    def create(self, contact_k: int, status: int, rng: random.Random | None,
               lines: list[dict[str, Any]] | None = None) -> int:
        created = now_ms()
        k = self.table.create(lambda k: self._new_order(k, contact_k, status, created, rng, lines),
                              created)
        self._created_of.setdefault(contact_k, []).append(k)
        return k

    def set_status(self, k: int, status: Any) -> None:
        if status not in SETTABLE_STATUSES:
            raise ApiError(400, "Order status must be 6, 7, 10, or 13")
        current = self.table.get(k)["status"]
        if status == current:
            raise ApiError(402, "The order status is the same as the previous status")
        if current in FINAL_STATUSES:
            raise ApiError(400, "The order is delivered or cancelled; its status cannot change")
        self._put(k, status=status)

    def pay(self, k: int, amount_received: int) -> None:
        order = self.render(self.table.get(k))
        if order["status"] not in (OPEN_CART, AWAITING_PAYMENT):
            raise ApiError(402, "The checkout failed: the order is not awaiting payment")
        if amount_received < order["total"]:
            raise ApiError(400, "The amount received is less than the total value of the order")
        self._put(k, status=PAID)

    def open_cart(self, contact_k: int) -> int | None:
        k = self.latest(contact_k)
        return k if k is not None and self.table.get(k)["status"] == OPEN_CART else None

    def add_to_cart(self, contact_k: int, product_id: int, quantity: int) -> None:
        product = self.product(product_id)
        if not product["active"]:
            raise ApiError(400, "The product is not active")
        if quantity < 1:
            raise ApiError(400, "Invalid parameters: quantity must be at least 1")
        k = self.open_cart(contact_k)
        if k is None:
            self.create(contact_k, OPEN_CART, None, [self.line_item(product, quantity)])
            return
        lines = [dict(line) for line in self.table.get(k)["line_items"]]
        same = next((line for line in lines if line["id"] == product_id), None)
        if same is None:
            lines.append(self.line_item(product, quantity))
        else:
            same["amount"] += quantity
        self._put(k, line_items=lines)

    def remove_from_cart(self, contact_k: int, product_id: int) -> None:
        k = self.open_cart(contact_k)
        lines = [] if k is None else self.table.get(k)["line_items"]
        kept = [line for line in lines if line["id"] != product_id]
        if k is None or len(kept) == len(lines):
            raise ApiError(404, "The product is not in the cart")
        self._put(k, line_items=kept)

    def clear_cart(self, contact_k: int) -> None:
        """Empty the open cart; with no open cart there is nothing to clear (assumed)."""
        k = self.open_cart(contact_k)
        if k is not None and self.table.get(k)["line_items"]:
            self._put(k, line_items=[])

    def advance(self, k: int, rng: random.Random) -> bool:
        """Move a non-final order on to a later status, as its customer would (churn)."""
        following = NEXT_STATUSES.get(self.table.get(k)["status"])
        if not following:
            return False
        self._put(k, status=rng.choice(following))
        return True

    def delete_of_contact(self, contact_k: int) -> list[str]:
        """Orders go with their contact (assumed); their ids."""
        gone = self.of_contact(contact_k)
        for k in gone:
            self.table.delete(k)
        return [self.id_of(k) for k in gone]
