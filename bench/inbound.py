"""Inbound text messages end to end: signed webhook in, our reply out at the SMS
provider, next to the gateway's own ceiling in the same run.

    python -m bench.inbound [--messages 1000] [--concurrency 8]

The stack runs as processes (``bench.orders``' commands: the real services, the
gateway with its ``GET /bench/echo`` route and the ``bench_echo`` service), with
``INBOUND_WEBHOOK_SECRET`` set and ``SMS_GATEWAY_URL`` pointing at a local provider
stand-in that notes when each reply arrives. ``--messages`` texts, each from a phone
of its own, alternate ``CARI keripik`` (messaging asks community who sent it, then
searches the catalogue) and ``BANTUAN``; ``--concurrency`` threads post them signed,
as a provider would. Printed, never asserted:

- webhooks accepted/s and p50/p99 of ``POST /api/v1/inbound/sms`` (200);
- messages handled end to end per second (from the first post to the last reply at
  the provider) and p50/p99 from posting a message to its reply arriving;
- messages answered twice (two replies; should be 0), replies the provider got again
  under the same Idempotency-Key (a delivery retried after a slow answer), and
  messages never answered;
- requests/s and p50/p99 of the echo route, and the ratio.
"""

import argparse
import http.server
import json
import sys
import threading
import time

from bench.common import (
    Load,
    data_dir,
    free_port,
    fresh_vhost,
    percentile,
    running_stack,
    stop_on_sigterm,
)
from bench.orders import COMMANDS, ms
from services.common import webhooks
from services.common.phone import normalise_phone

SECRET = "bench-inbound-secret"
ANSWER_WITHIN = 300
TEXTS = ("CARI keripik", "BANTUAN")


class Provider:
    """The SMS provider's stand-in: when each phone got each of our messages."""

    def __init__(self):
        self.arrivals = {}
        self.keys = {}  # each phone's messages by Idempotency-Key: a resend keeps its key
        self._lock = threading.Lock()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                key = self.headers.get("Idempotency-Key")
                with provider._lock:
                    provider.arrivals.setdefault(body["to"], []).append(time.perf_counter())
                    provider.keys.setdefault(body["to"], set()).add(key)
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        # no shutdown(): with nameko imported its wait can outlast the serving thread's
        # select; the thread is a daemon and the socket closes here
        self.server.server_close()

    def wait(self, phones, within):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self._lock:
                if all(phone in self.arrivals for phone in phones):
                    return
            time.sleep(0.2)


def phone_number(index):
    return f"0815{index:08d}"


def bench(args):
    with fresh_vhost() as amqp_uri, data_dir() as path, Provider() as provider:
        env = {
            "AMQP_URI": amqp_uri,
            "KOMPOR_DATA_DIR": path / "var",
            "GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "KOMPOR_LOG_LEVEL": "WARNING",
            "KOMPOR_RATE_LIMIT": 0,  # the provider posts from one address
            "INBOUND_WEBHOOK_SECRET": SECRET,
            "SMS_GATEWAY_URL": provider.url,
        }
        with running_stack(env, path, commands=COMMANDS) as stack:
            url = stack.url
            sent = {}

            def message(index):
                local = phone_number(index)
                body = json.dumps(
                    {"id": f"bench-{index}", "from": local, "text": TEXTS[index % len(TEXTS)]}
                ).encode()
                stamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    webhooks.TIMESTAMP_HEADER: stamp,
                    webhooks.SIGNATURE_HEADER: webhooks.sign(body, SECRET, stamp),
                }

                def send(session):
                    sent[normalise_phone(local)] = time.perf_counter()
                    return session.post(
                        url + "/api/v1/inbound/sms", data=body, headers=headers, timeout=30
                    )

                return send

            def echo(index):
                return lambda session: session.get(
                    url + "/bench/echo", params={"say": str(index)}, timeout=30
                )

            load = Load(args.concurrency)
            load.run([echo(-index) for index in range(args.concurrency * 4)])  # warm up
            first = time.perf_counter()
            posted = load.run([message(index) for index in range(args.messages)])
            provider.wait(sent, ANSWER_WITHIN)
            stack.check()  # figures from a half-dead stack would mislead
            ceiling = load.run([echo(index) for index in range(args.messages)])
            stack.check()

    answered = {phone: provider.arrivals[phone] for phone in sent if phone in provider.arrivals}
    to_reply = sorted(times[0] - sent[phone] for phone, times in answered.items())
    last = max((times[0] for times in answered.values()), default=first)
    twice = sum(1 for phone in answered if len(provider.keys[phone]) > 1)
    resent = sum(len(times) for times in answered.values()) - len(answered) - twice
    print(
        f"inbound benchmark: {args.messages} text messages (each from its own phone) posted "
        f"by {args.concurrency} concurrent clients, the stack as processes"
    )
    print(
        f"  POST /api/v1/inbound/sms {posted['ok_rps']:7.1f} accepted/s          "
        f"p50 {posted['p50_ms']:.1f} ms  p99 {posted['p99_ms']:.1f} ms  "
        f"({posted['errors']} failed)"
    )
    handled = len(answered) / (last - first) if last > first else float("nan")
    print(
        f"  webhook → reply at SMS   {handled:7.1f} messages/s          "
        f"p50 {ms(percentile(to_reply, 50))}  p99 {ms(percentile(to_reply, 99))}  "
        f"({len(answered)} answered, {len(sent) - len(answered)} unanswered in "
        f"{ANSWER_WITHIN} s, {twice} answered twice, {resent} resent under the same key)"
    )
    print(
        f"  ceiling GET /bench/echo  {ceiling['ok_rps']:7.1f} requests/s          "
        f"p50 {ceiling['p50_ms']:.1f} ms  p99 {ceiling['p99_ms']:.1f} ms  "
        f"({ceiling['errors']} failed)"
    )
    if ceiling["ok_rps"] and handled == handled:
        print(f"  handled / ceiling        {handled / ceiling['ok_rps']:.2f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Inbound text messages end to end.")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
