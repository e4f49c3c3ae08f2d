from services.common.service import HealthMixin


class OrdersService(HealthMixin):
    name = "orders"
