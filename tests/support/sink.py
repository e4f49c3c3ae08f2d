"""A local HTTP server standing in for the SMS or WhatsApp provider."""

import http.server
import json
import threading
import time


class HttpSink:
    """Records ``{"to", "message"}`` posts (with their ``Authorization`` and
    ``Idempotency-Key`` headers); ``fail_for(seconds)`` makes it answer 500.
    ``keep_alive``: it speaks HTTP/1.1 and keeps each connection open for the next
    request, as providers do; ``connections`` counts those opened to it."""

    def __init__(self, keep_alive=False):
        self.messages = []
        self.refused = []  # what was answered 500, to see it arrive later
        self.connections = 0
        self._fail_until = 0.0
        self._lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self):
                super().setup()
                with sink._lock:
                    sink.connections += 1

            def end_headers(self):
                self.send_header("Content-Length", "0")  # no body: the next request may follow
                super().end_headers()

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if time.monotonic() < sink._fail_until:
                    with sink._lock:
                        sink.refused.append(json.loads(body))
                    self.send_response(500)
                    self.end_headers()
                    return
                with sink._lock:
                    sink.messages.append(
                        {
                            **json.loads(body),
                            "authorization": self.headers.get("Authorization"),
                            "idempotency_key": self.headers.get("Idempotency-Key"),
                        }
                    )
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a client's open connection never holds up the exit
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail_for(self, seconds):
        self._fail_until = time.monotonic() + seconds

    def to(self, phone):
        with self._lock:
            return [message for message in self.messages if message["to"] == phone]
