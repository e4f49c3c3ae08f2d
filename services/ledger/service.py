import functools

from services.common.errors import EXPECTED
from services.common.events import subscribe
from services.common.idempotency import Idempotency, idempotent
from services.common.periods import days_of, period_of
from services.common.rpc import rpc
from services.common.schemas import PageSchema, page_of
from services.common.service import HealthMixin
from services.common.storage import Storage
from services.community import contract as community
from services.ledger import domain, schemas
from services.ledger.repository import LedgerRepository
from services.orders import contract as orders


class LedgerService(HealthMixin):
    """What each hub owes its sellers (DESIGN §8): an append-only record per hub and
    seller, fed by settled orders, payouts and corrections (docs/architecture.md §17)."""

    name = "ledger"

    store = Storage(LedgerRepository)
    idempotency = Idempotency()

    # --- settled orders (orders events) ---

    @subscribe("orders", orders.ORDER_SETTLED)
    def handle_order_settled(self, event):
        """Each seller's sale, the agent's share (an agent's order) and what the hub
        keeps, each written once however often the event comes; then the hub's
        commission counted into its days."""
        for entry in domain.settlement(event["data"]):
            self.store.append(entry)
        self.store.tally(event["data"]["hub_id"])

    # --- who sells in which hub (community events) ---

    @subscribe("community", community.MEMBERSHIP_APPROVED)
    def handle_membership_approved(self, event):
        self.store.save_standing(event["data"], False, event["occurred_at"])

    @subscribe("community", community.MEMBERSHIP_SUSPENDED)
    def handle_membership_suspended(self, event):
        self.store.save_standing(event["data"], True, event["occurred_at"])

    # --- who is an agent in which hub (community events) ---

    @subscribe("community", community.AGENT_APPOINTED)
    def handle_agent_appointed(self, event):
        self.store.save_agent(event["data"], event["occurred_at"])

    # --- commands and queries ---

    @rpc(expected_exceptions=EXPECTED)
    @idempotent(required=True)
    def record_payout(self, actor, hub_id, payload, idempotency_key=None):
        """``record_payout(coordinator, hub_id, {"seller_id": "…", "amount": 50000,
        "method": "cash"}, idempotency_key="3f2a…")`` → the payout with the balance
        left; ``"agent_id"`` instead of ``"seller_id"`` pays an agent; more than the
        balance is ``InsufficientBalance``."""
        fields = schemas.RecordPayoutSchema().load_or_raise(payload)
        agent = self.store.agent(fields.get("agent_id"))
        pay = functools.partial(domain.payout, agent=agent)
        entry = self._record(pay, actor, hub_id, fields, idempotency_key)
        return schemas.PayoutSchema().dump(entry)

    @rpc(expected_exceptions=EXPECTED)
    @idempotent(required=True)
    def record_adjustment(self, actor, hub_id, payload, idempotency_key=None):
        """``record_adjustment(coordinator, hub_id, {"seller_id": "…", "amount": -2500,
        "reason": "Salah hitung"}, idempotency_key="…")`` → the adjustment."""
        fields = schemas.RecordAdjustmentSchema().load_or_raise(payload)
        entry = self._record(domain.adjustment, actor, hub_id, fields, idempotency_key)
        return schemas.AdjustmentSchema().dump(entry)

    def _record(self, make, actor, hub_id, fields, key):
        """The entry ``make`` drafts, written once per key (a repeat finds it)."""
        standing = self.store.seller_standing(hub_id, fields.get("seller_id"))
        asked = make(actor, hub_id, fields, key, standing)
        return domain.check_same_request(self.store.append(asked), asked)

    @rpc(expected_exceptions=EXPECTED)
    def statement(self, actor, hub_id, seller_id, query):
        """``statement(actor, hub_id, seller_id, {"from": "2026-11-01", "to":
        "2026-11-30"})`` → ``{opening_balance, entries, closing_balance}``."""
        domain.check_known_seller(seller_id, self.store.knows_seller(hub_id, seller_id))
        domain.check_can_read_statement(actor, hub_id, seller_id)
        period = period_of(query)
        opening, entries = self.store.stretch(domain.account_of(hub_id, seller_id), *period)
        found = domain.statement(hub_id, seller_id, period, opening, entries)
        return schemas.StatementSchema().dump(found)

    @rpc(expected_exceptions=EXPECTED)
    def agent_statement(self, actor, hub_id, agent_id, query):
        """``agent_statement(actor, hub_id, agent_id, {"from": "2026-11-01", "to":
        "2026-11-30"})`` → the agent's ``{opening_balance, entries, closing_balance}``,
        for the agent and the hub's coordinator."""
        agent = domain.check_known_agent(self.store.agent(agent_id), hub_id, agent_id)
        domain.check_can_read_agent_statement(actor, hub_id, agent)
        period = period_of(query)
        opening, entries = self.store.stretch(domain.agent_account(hub_id, agent_id), *period)
        found = domain.agent_statement(hub_id, agent, period, opening, entries)
        return schemas.AgentStatementSchema().dump(found)

    @rpc(expected_exceptions=EXPECTED)
    def my_earnings(self, actor, query):
        """``my_earnings(actor, {"page": 1})`` → what each hub owes the caller now, as a
        seller and as an agent (``agent_id`` set)."""
        page = PageSchema().load_or_raise(query)
        balances, total = self.store.balances_of(actor["member_id"], **page)
        return page_of(schemas.EarningSchema(many=True).dump(balances), total=total, **page)

    @rpc(expected_exceptions=EXPECTED)
    def commission_by_hub(self, actor, query):
        """``commission_by_hub(admin, {"from": "2026-11-01", "to": "2026-11-30"})`` →
        ``[{hub_id, settled_orders, commission, agent_commission}]`` for whole WIB days,
        from one document per hub: what the hub kept, and what its agents earned."""
        domain.check_can_see_network(actor)
        first_day, end_day = days_of(query)
        found = domain.commission_by_hub(self.store.tallies(), first_day, end_day)
        return schemas.HubCommissionSchema(many=True).dump(found)
