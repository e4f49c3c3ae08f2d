"""The processes KOMPOR DESA is made of, named once: ``make run`` starts them, the
gateway asks the backends whether they are ready, the operator CLI watches their events."""

SERVICES = {
    "community": "services.community.service:CommunityService",
    "catalogue": "services.catalogue.service:CatalogueService",
    "orders": "services.orders.service:OrdersService",
    "notifications": "services.notifications.service:NotificationsService",
    "messaging": "services.messaging.service:MessagingService",
    "ledger": "services.ledger.service:LedgerService",
    "gateway": "services.gateway.service:GatewayService",
}
"""Each service by name, with the nameko service class its process runs."""

BACKENDS = tuple(name for name in SERVICES if name != "gateway")
"""The services behind the gateway: each answers RPC on ``rpc-<name>`` and publishes
its events on ``<name>.events``."""
