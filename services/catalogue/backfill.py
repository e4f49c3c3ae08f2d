"""Codes for the products stored before products had codes, given when catalogue
starts (``repository.backfill_codes``).

They are written in ``setup``, which every extension finishes before any entrypoint
starts, so once catalogue answers every product has its code; the ``product_updated``
events that tell the other services go out through the outbox like any write's."""

import logging

from nameko.extensions import DependencyProvider

from services.catalogue.repository import CatalogueRepository
from services.common.storage import Storage, prepared_db

logger = logging.getLogger(__name__)


class CodeBackfill(DependencyProvider):
    def setup(self) -> None:
        repository = CatalogueRepository(prepared_db(self.container, CatalogueRepository))
        self.coded = repository.backfill_codes()
        if self.coded:
            logger.info("gave %s products stored without a code their code", len(self.coded))

    def start(self) -> None:
        store = next(d for d in self.container.dependencies if isinstance(d, Storage))
        for product_id in self.coded:
            store.relay.relay("products", product_id)
