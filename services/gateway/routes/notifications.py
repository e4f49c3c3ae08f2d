"""A member's own notifications over HTTP (docs/architecture.md §13)."""

from services.common.schemas import PageSchema
from services.gateway.http import query, route
from services.notifications.schemas import NotificationSchema


class NotificationsRoutes:
    @route(
        "GET",
        "/api/v1/notifications",
        params=PageSchema,
        response=NotificationSchema,
        many=True,
        auth=True,
        summary="The caller's notifications, newest first",
    )
    def list_notifications(self, request):
        actor = self.backend.caller(request)
        return self.backend.notifications.list_notifications(actor, query(request))
