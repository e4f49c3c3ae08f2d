"""The ledger over HTTP (DESIGN §8, §9): a seller's or an agent's statement (JSON or
CSV), a member's earnings, payouts and adjustments by the hub's coordinator, and the
network report, put together here from community, orders and the ledger."""

import eventlet

from services.common.periods import ReportQuerySchema, period_of
from services.common.schemas import PageSchema
from services.gateway.http import json_body, query, route
from services.gateway.idempotency import key_header, key_of
from services.gateway.network import network_report
from services.gateway.schemas import NetworkReportSchema
from services.gateway.tables import csv_response, network_table, statement_table, wants_csv
from services.ledger import schemas

NETWORK_SOURCES = (
    ("community", "network_members"),
    ("orders", "network_sales"),
    ("ledger", "commission_by_hub"),
)
"""Who computes which part of the network report, each by its own store's aggregation."""


class LedgerRoutes:
    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/sellers/<seller_id>/statement",
        params=ReportQuerySchema,
        response=schemas.StatementSchema,
        auth=True,
        csv=True,
        summary="A seller's statement: opening balance, entries, closing balance (the "
        "seller, the hub's coordinator)",
        operation_id="getStatement",
    )
    def get_statement(self, request, hub_id, seller_id):
        actor = self.backend.caller(request)
        statement = self.backend.ledger.statement(actor, hub_id, seller_id, query(request))
        if wants_csv(request):
            return csv_response(*statement_table(statement), f"statement-{seller_id}")
        return statement

    @route(
        "GET",
        "/api/v1/hubs/<hub_id>/agents/<agent_id>/statement",
        params=ReportQuerySchema,
        response=schemas.AgentStatementSchema,
        auth=True,
        csv=True,
        summary="An agent's statement: opening balance, their shares and payouts, closing "
        "balance (the agent, the hub's coordinator)",
        operation_id="getAgentStatement",
    )
    def get_agent_statement(self, request, hub_id, agent_id):
        actor = self.backend.caller(request)
        statement = self.backend.ledger.agent_statement(actor, hub_id, agent_id, query(request))
        if wants_csv(request):
            return csv_response(*statement_table(statement), f"statement-agent-{agent_id}")
        return statement

    @route(
        "GET",
        "/api/v1/me/earnings",
        params=PageSchema,
        response=schemas.EarningSchema,
        many=True,
        auth=True,
        summary="What each hub owes the caller now, as a seller and as an agent",
        operation_id="listMyEarnings",
    )
    def list_my_earnings(self, request):
        actor = self.backend.caller(request)
        return self.backend.ledger.my_earnings(actor, query(request))

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/payouts",
        body=schemas.RecordPayoutSchema,
        response=schemas.PayoutSchema,
        status=201,
        auth=True,
        headers=key_header(required=True),
        summary="The coordinator pays a seller or an agent (never more than the balance); "
        "they are told",
        operation_id="recordPayout",
    )
    def record_payout(self, request, hub_id):
        actor = self.backend.caller(request)
        payout = self.backend.ledger.record_payout(
            actor, hub_id, json_body(request), **key_of(request)
        )
        return 201, payout

    @route(
        "POST",
        "/api/v1/hubs/<hub_id>/adjustments",
        body=schemas.RecordAdjustmentSchema,
        response=schemas.AdjustmentSchema,
        status=201,
        auth=True,
        headers=key_header(required=True),
        summary="The coordinator corrects a seller's balance, with the reason; the seller is told",
        operation_id="recordAdjustment",
    )
    def record_adjustment(self, request, hub_id):
        actor = self.backend.caller(request)
        adjustment = self.backend.ledger.record_adjustment(
            actor, hub_id, json_body(request), **key_of(request)
        )
        return 201, adjustment

    @route(
        "GET",
        "/api/v1/reports/network",
        params=ReportQuerySchema,
        response=NetworkReportSchema,
        auth=True,
        csv=True,
        summary="Every hub and district: members, trainings, orders, sales by channel, "
        "commission (admin)",
        operation_id="getNetworkReport",
    )
    def get_network_report(self, request):
        actor = self.backend.caller(request)
        asked = query(request)
        period = period_of(asked)  # refused here, before three services are asked
        pool = eventlet.GreenPool(len(NETWORK_SOURCES))
        calls = [getattr(self.backend.service(name), method) for name, method in NETWORK_SOURCES]
        parts = list(pool.imap(lambda call: call(actor, asked), calls))
        report = NetworkReportSchema().dump(network_report(period, *parts))
        if wants_csv(request):
            return csv_response(*network_table(report), "network-report")
        return report
