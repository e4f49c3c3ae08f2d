"""Running a text command: the same RPC the HTTP API calls, as the member who sent
it (their actor, signed for each call as the gateway signs it), and the reply key its
outcome is answered with.

Expected refusals (bad input, not allowed, not found, suspended, conflict) become
replies (``domain.reply_to_error``); any other failure (a service down, a timeout)
is raised, so the event is handled again later and the member never gets a wrong
answer.
"""

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from services.common.actor import Actor, is_seller
from services.common.errors import KomporError, RateLimited, ServiceUnavailable, Unauthenticated
from services.common.phone import mask_phone
from services.common.remote import Services
from services.common.types import Document
from services.messaging import domain
from services.messaging.repository import MessagingRepository

logger = logging.getLogger(__name__)

SEARCH_RESULTS = 3
MEMBERS_ONLY = ("GABUNG", "PESAN", "STATUS", "BATAL", "STOK", "SIAP", "BAYAR")
NOT_OURS = (ServiceUnavailable, RateLimited, Unauthenticated)
"""Refusals that are not about the member's command: handled again later."""
CANCEL_REASON = "Dibatalkan lewat SMS (BATAL)."


class Sender:
    """Who sent the message: ``member`` ``{id, name, language, phone}`` and ``actor``,
    both ``None`` for a phone no member has."""

    def __init__(self, found: Mapping[str, Any] | None) -> None:
        self.member: Mapping[str, Any] | None = (found or {}).get("member")
        self.actor: Actor | None = (found or {}).get("actor")


class Commands:
    def __init__(self, remote: Services, store: MessagingRepository) -> None:
        self.remote = remote
        self.store = store

    def sender(self, phone: str) -> Sender:
        return Sender(self.remote.community.actor_for_phone(phone))

    def run(self, message: Document, command: Mapping[str, Any], sender: Sender) -> domain.Reply:
        """The reply to ``command``, after running it as ``sender``."""
        verb = command["verb"]
        if not command["understood"]:
            return domain.HELP, {}
        if command.get("problem"):
            return str(command["problem"]), {}
        if sender.member is None and verb in MEMBERS_ONLY:
            return "not_registered", {}
        run: Callable[[Document, Mapping[str, Any], Sender], domain.Reply] = getattr(
            self, f"_{verb.lower()}", self._help
        )
        return run(message, command["args"], sender)

    def _attempt(
        self,
        verb: str,
        values: Mapping[str, Any],
        call: Callable[[], domain.Reply],
        reply_to: Callable[[KomporError, Mapping[str, Any]], domain.Reply | None] | None = None,
    ) -> domain.Reply:
        """``call()``'s reply, or the reply to the refusal it met (``reply_to``, by
        default ``domain.reply_to_error`` of ``verb``) with ``values``."""
        reply_to = reply_to or functools.partial(domain.reply_to_error, verb)
        try:
            return call()
        except KomporError as error:
            if isinstance(error, NOT_OURS):
                raise
            reply = reply_to(error, values)
            if reply is None:
                raise
            return reply

    def _as(self, sender: Sender) -> Any:
        return self.remote.acting_as(sender.actor)

    # --- anyone ------------------------------------------------------------------

    def _help(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return domain.HELP, {}

    def _bantuan(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return domain.HELP, {}

    def _daftar(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        if sender.member is not None:
            return "already_registered", {"name": sender.member["name"]}

        def register() -> domain.Reply:
            fields = {"phone": message["phone"], "name": args["name"]}
            if message.get("language"):
                fields["language"] = message["language"]
            answer = self.remote.community.register_by_phone(fields)
            key = "registered" if answer["created"] else "already_registered"
            return key, {"name": answer["member"]["name"]}

        return self._attempt("DAFTAR", {}, register)

    def _cari(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        words = str(args.get("words") or "")

        def search() -> domain.Reply:
            query = {"q": words, "page_size": SEARCH_RESULTS}
            page = self.remote.acting_as(None).catalogue.list_products(query)
            if not page["items"]:
                return "found_nothing", {"words": words}
            return "found", {"products": domain.found(page["items"][:SEARCH_RESULTS])}

        try:
            return search()
        except KomporError as error:
            if isinstance(error, NOT_OURS):
                raise
            return "found_nothing", {"words": words}

    def _berhenti(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return self._consent(message, sender, opted_out=True)

    def _mulai(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return self._consent(message, sender, opted_out=False)

    def _consent(self, message: Document, sender: Sender, opted_out: bool) -> domain.Reply:
        phone = message["phone"]
        member_id = sender.member["id"] if sender.member else None
        current = self.store.get_consent(phone)
        self.store.save_consent(domain.consent(current, phone, member_id, opted_out))
        return ("stopped" if opted_out else "started"), {}

    # --- members -----------------------------------------------------------------

    def _gabung(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        slug = str(args["hub"])
        business_name = args.get("business_name")
        role = "seller" if business_name else "buyer"

        def apply() -> domain.Reply:
            hub = self.remote.community.get_hub(slug)
            fields: dict[str, Any] = {"role": role}
            if business_name:
                fields["business_name"] = business_name
            self._as(sender).community.apply_for_membership(
                hub["id"], fields, idempotency_key=domain.idempotency_key(message)
            )
            return "applied", {"hub": hub["name"], "role": role}

        return self._attempt("GABUNG", {"hub": slug}, apply)

    def _product(self, sender: Sender, code: str) -> Mapping[str, Any]:
        product: Mapping[str, Any] = self._as(sender).catalogue.get_product_by_code(code)
        return product

    def _pesan(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        lines = list(args["lines"])
        for line in lines:
            code = line["code"]
            try:
                product = self._product(sender, code)
            except KomporError as error:
                if isinstance(error, NOT_OURS):
                    raise
                return domain.reply_to_error("PESAN", error, {"code": code}) or (
                    "unknown_code",
                    {"code": code},
                )
            line["product"] = product
        placed = domain.order_lines((line["product"], line["quantity"]) for line in lines)
        if isinstance(placed, str):
            return "mixed_hubs", {"code": placed}
        hub_id, items = placed
        if args.get("customer_phone"):
            order_for = (hub_id, items, args["customer_phone"])
            return self._order_for(message, sender, order_for, lines[0]["code"])

        def place() -> domain.Reply:
            product_ids = [item["product_id"] for item in items]
            broadcast_id = self._broadcast_answered(message["phone"], product_ids)
            # an orders that predates broadcasts takes no broadcast_id: pass it only when
            # there is one, so plain orders go through during a rolling upgrade
            attributed = {} if broadcast_id is None else {"broadcast_id": broadcast_id}
            order = self._as(sender).orders.place_order(
                domain.idempotency_key(message),
                domain.order_payload(hub_id, items),
                channel=message["channel"],
                **attributed,
            )
            hub = self.remote.community.get_hub(hub_id)
            return "ordered", {
                "number": order["number"],
                "total": order["total"],
                "hub": hub["name"],
            }

        return self._attempt("PESAN", {"code": lines[0]["code"]}, place)

    def _order_for(
        self,
        message: Document,
        sender: Sender,
        order_for: tuple[str, list[dict[str, Any]], str],
        code: str,
    ) -> domain.Reply:
        """``PESAN … UNTUK <phone>``: the sender, an agent of the hub, orders
        ``(hub_id, items, customer_phone)``; orders decides whether they may (a refusal
        names the hub)."""
        hub_id, items, customer_phone = order_for
        values: dict[str, Any] = {"code": code, "hub": None}

        def place() -> domain.Reply:
            hub = self.remote.community.get_hub(hub_id)
            values["hub"] = hub["name"]
            order = self._as(sender).orders.place_order(
                domain.idempotency_key(message),
                domain.order_payload(hub_id, items, customer_phone),
                channel=message["channel"],
            )
            return "ordered_for", {
                "number": order["number"],
                "total": order["total"],
                "phone": customer_phone,
                "hub": hub["name"],
            }

        return self._attempt("PESAN", values, place, domain.reply_to_customer_order_error)

    def _broadcast_answered(self, phone: str, product_ids: list[str]) -> str | None:
        """The broadcast this order from ``phone`` answers (community's
        ``broadcast_for_reply``), or ``None``. Attribution only counts a broadcast's
        orders: when community cannot say, the order goes on without it."""
        try:
            broadcast_id: str | None = self.remote.community.broadcast_for_reply(phone, product_ids)
        except Exception as error:  # whatever failed, the order must not fail with it
            logger.warning(
                "order from %s not attributed to a broadcast: community did not answer (%r)",
                mask_phone(phone),
                error,
            )
            return None
        return broadcast_id

    def _order(self, sender: Sender, number: str) -> Mapping[str, Any]:
        order: Mapping[str, Any] = self._as(sender).orders.get_order_by_number(number)
        return order

    def _status(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        number = args.get("number")

        def status() -> domain.Reply:
            if number:
                order = self._order(sender, number)
            else:
                page = self._as(sender).orders.list_orders({"as": "buyer", "page_size": 1})
                if not page["items"]:
                    return "no_orders", {}
                order = page["items"][0]
            return "order_status", {
                "number": order["number"],
                "status": order["status"],
                "total": order["total"],
            }

        return self._attempt("STATUS", {"number": number}, status)

    def _batal(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return self._move(message, args["number"], sender, "BATAL")

    def _siap(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        return self._move(message, args["number"], sender, "SIAP")

    def _move(self, message: Document, number: str, sender: Sender, verb: str) -> domain.Reply:
        values: dict[str, Any] = {"number": number, "status": None}

        def move() -> domain.Reply:
            order = self._order(sender, number)
            values.update(number=order["number"], status=order["status"])
            key = domain.idempotency_key(message)
            orders = self._as(sender).orders
            if verb == "BATAL":
                orders.cancel_order(order["id"], {"reason": CANCEL_REASON}, idempotency_key=key)
                return "cancelled", {"number": order["number"]}
            orders.change_status(order["id"], {"status": "ready_for_pickup"}, idempotency_key=key)
            return "ready", {"number": order["number"]}

        return self._attempt(verb, values, move)

    def _bayar(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        values: dict[str, Any] = {"number": args["number"], "status": None}

        def send_proof() -> domain.Reply:
            order = self._order(sender, args["number"])
            values.update(number=order["number"], status=order["status"])
            self._as(sender).orders.send_payment_proof(
                order["id"],
                {"reference": args["reference"]},
                idempotency_key=domain.idempotency_key(message),
            )
            return "proof_sent", {"number": order["number"], "reference": args["reference"]}

        return self._attempt("BAYAR", values, send_proof)

    def _stok(self, message: Document, args: Mapping[str, Any], sender: Sender) -> domain.Reply:
        code = str(args["code"])

        def change() -> domain.Reply:
            product = self._product(sender, code)
            if product.get("seller_id") != (sender.member or {}).get("id"):
                return "not_your_product", {"code": code}
            if not is_seller(sender.actor, product["hub_id"]):
                hub = self.remote.community.get_hub(product["hub_id"])
                return "suspended", {"hub": hub["name"]}
            changed = self._as(sender).catalogue.change_stock(
                product["id"],
                {"delta": args["delta"]},
                idempotency_key=domain.idempotency_key(message),
            )
            return "stock_changed", {
                "code": code,
                "name": changed["name"],
                "stock": changed["stock"],
            }

        return self._attempt("STOK", {"code": code}, change)
