"""A service's repository over a fresh in-process store, with the indexes it declares
(the unique ones decide races there as in production)."""

import uuid

from services.common.mongo import database_name, mongo_client


def memory_repository(repository_class, service):
    """``memory_repository(OrdersRepository, "orders")``: empty, indexed, no relay."""
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})[database_name(service)]
    for collection, models in repository_class.indexes.items():
        if models:
            db[collection].create_indexes(models)
    return repository_class(db)
