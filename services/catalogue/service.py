from services.common.service import HealthMixin


class CatalogueService(HealthMixin):
    name = "catalogue"
