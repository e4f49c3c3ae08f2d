"""Inbound text messages end to end: signed webhook in, our reply out at the SMS
provider, next to the gateway's own ceiling in the same run.

    python -m bench.inbound [--messages 1000] [--rate 30] [--seconds 10]

The stack runs as ``make run`` starts it (``bench.common``), with
``INBOUND_WEBHOOK_SECRET`` set and ``SMS_GATEWAY_URL`` pointing at a local provider
stand-in that notes when each reply arrives. ``--messages`` texts, each from a phone
of its own, alternate ``CARI keripik`` (messaging asks community who sent it, then
searches the catalogue) and ``BANTUAN``; they are posted signed, as a provider would,
at ``--rate`` a second from this process (each post's reply is matched to it by
phone, which wrk cannot do). Printed, never asserted:

- webhooks accepted/s and p50/p99 of ``POST /api/v1/inbound/sms`` (200);
- messages handled end to end per second (from the first post to the last reply at
  the provider) and p50/p99 from posting a message to its reply arriving;
- messages answered twice (two replies; should be 0), replies the provider got again
  under the same Idempotency-Key (a delivery retried after a slow answer), and
  messages never answered;
- requests/s and p50/p99 of the echo route (``bench.load``, ``--seconds``), and the
  ratio; the load generator's CPU share next to each.
"""

import argparse
import json
import sys
import time

from bench.common import WEBHOOK_SECRET, percentile, running_stack, stop_on_sigterm
from bench.load import GENERATOR, Request, hit, paced
from services.common import webhooks
from services.common.phone import normalise_phone

ANSWER_WITHIN = 300
TEXTS = ("CARI keripik", "BANTUAN")


def phone_number(index):
    return f"0815{index:08d}"


def ms(seconds):
    return "n/a" if seconds != seconds else f"{seconds * 1000:.1f} ms"  # nan: none


def replies(provider):
    """``{phone: [(when it arrived, Idempotency-Key)]}`` of the messages at the provider."""
    arrivals = {}
    for message in list(provider.messages):
        arrivals.setdefault(message["to"], []).append((message["at"], message["idempotency_key"]))
    return arrivals


def wait_answered(provider, phones, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and not set(phones) <= set(replies(provider)):
        time.sleep(0.2)


def bench(args):
    with running_stack() as stack:
        url, provider, sent = stack.url, stack.provider, {}

        def message(index):
            local = phone_number(index)
            body = json.dumps(
                {"id": f"bench-{index}", "from": local, "text": TEXTS[index % len(TEXTS)]}
            ).encode()

            def send(session):
                stamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    webhooks.TIMESTAMP_HEADER: stamp,
                    webhooks.SIGNATURE_HEADER: webhooks.sign(body, WEBHOOK_SECRET, stamp),
                }
                sent[normalise_phone(local)] = time.perf_counter()
                return session.post(
                    url + "/api/v1/inbound/sms", data=body, headers=headers, timeout=30
                )

            return send

        first = time.perf_counter()
        posted = paced([message(index) for index in range(args.messages)], args.rate)
        wait_answered(provider, sent, ANSWER_WITHIN)
        stack.check()  # figures from a half-dead stack would mislead
        ceiling = hit(url, [Request("GET", "/bench/echo?say=ok")], args.seconds)
        stack.check()

    arrivals = replies(provider)
    answered = {phone: arrivals[phone] for phone in sent if phone in arrivals}
    to_reply = sorted(got[0][0] - sent[phone] for phone, got in answered.items())
    last = max((got[0][0] for got in answered.values()), default=first)
    twice = sum(1 for got in answered.values() if len({key for _, key in got}) > 1)
    resent = sum(len(got) for got in answered.values()) - len(answered) - twice
    print(
        f"inbound benchmark: {args.messages} text messages (each from its own phone) posted "
        f"at {args.rate:g}/s, the stack as processes"
    )
    print(
        f"  POST /api/v1/inbound/sms {posted.rate:7.1f} accepted/s          "
        f"p50 {posted.p50_ms:.1f} ms  p99 {posted.p99_ms:.1f} ms  "
        f"({posted.errors} failed; sender {100 * posted.load_cpu:.0f} % of a core)"
    )
    handled = len(answered) / (last - first) if last > first else float("nan")
    print(
        f"  webhook → reply at SMS   {handled:7.1f} messages/s          "
        f"p50 {ms(percentile(to_reply, 50))}  p99 {ms(percentile(to_reply, 99))}  "
        f"({len(answered)} answered, {len(sent) - len(answered)} unanswered in "
        f"{ANSWER_WITHIN} s, {twice} answered twice, {resent} resent under the same key)"
    )
    print(
        f"  ceiling GET /bench/echo  {ceiling.rate:7.1f} requests/s          "
        f"p50 {ceiling.p50_ms:.1f} ms  p99 {ceiling.p99_ms:.1f} ms  "
        f"({ceiling.errors} failed; {GENERATOR} {100 * ceiling.load_cpu:.0f} % of a core)"
    )
    if ceiling.rate and handled == handled:
        print(f"  handled / ceiling        {handled / ceiling.rate:.2f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Inbound text messages end to end.")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=30.0, help="messages posted a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="of the echo's load")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
