"""Writes the RabbitMQ definitions the broker loads at boot: ``definitions.json`` (one
user per service, each allowed only the queues and exchanges it declares, publishes
to and consumes from) with each user's password hash filled in from the environment.

    RABBITMQ_ADMIN_PASSWORD=… RABBITMQ_ORDERS_PASSWORD=… … \\
        python deploy/rabbitmq/render_definitions.py /path/to/definitions.json

``RABBITMQ_<USER>_PASSWORD`` is read for every user of ``definitions.json``; a
missing or short one stops the render, so the broker never boots with a user that
has no password or a guessable one. Only salted hashes are written (RabbitMQ's
``rabbit_password_hashing_sha256``), never a password.

Compose runs this before RabbitMQ starts (service ``rabbitmq-definitions``), so
changing a password in the environment and running ``docker compose up`` again
is a password rotation.
"""

import base64
import hashlib
import json
import logging
import os
import pathlib
import secrets
import sys

logger = logging.getLogger(__name__)

TEMPLATE = pathlib.Path(__file__).with_name("definitions.json")
MIN_PASSWORD_LENGTH = 16


class MissingPassword(Exception):
    """A user of the definitions has no usable password in the environment."""


def password_variable(user):
    return f"RABBITMQ_{user.upper()}_PASSWORD"


def password_hash(password):
    """RabbitMQ's salted SHA-256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def render(environ, template=TEMPLATE):
    """The definitions with every user's ``password_hash`` set from ``environ``."""
    definitions = json.loads(pathlib.Path(template).read_text())
    for user in definitions["users"]:
        variable = password_variable(user["name"])
        password = environ.get(variable, "")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise MissingPassword(
                f"{variable} is {'too short' if password else 'not set'}: set it to at least "
                f"{MIN_PASSWORD_LENGTH} characters (for example `openssl rand -hex 24`)"
            )
        user["password_hash"] = password_hash(password)
    return definitions


def write(definitions, path):
    """Write aside and rename, so the broker never reads a half-written file. The
    broker runs as another user than this script: the file is world-readable, which
    is why it holds salted hashes and no password."""
    path = pathlib.Path(path)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as file:
        json.dump(definitions, file, indent=2)
    os.replace(draft, path)


def main(argv):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if len(argv) != 2:
        logger.error("usage: python deploy/rabbitmq/render_definitions.py OUTPUT")
        return 2
    try:
        definitions = render(os.environ)
    except MissingPassword as exc:
        logger.error("%s", exc)
        return 1
    write(definitions, argv[1])
    logger.info("wrote %s users to %s", len(definitions["users"]), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
