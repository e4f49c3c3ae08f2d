"""Providers that misbehave below HTTP: one that never answers, one that resets."""

import socket
import struct
import threading


class BrokenProvider:
    """A TCP server on ``url`` that, for every request, either holds the connection
    open without answering (``"hang"``) or resets it (``"reset"``)."""

    def __init__(self, mode):
        assert mode in ("hang", "reset")
        self.mode = mode
        self.requests = 0
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/send"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._misbehave, args=(connection,), daemon=True).start()

    def _misbehave(self, connection):
        try:
            connection.settimeout(1)
            try:
                connection.recv(65536)
            except OSError:
                pass
            if self.mode == "hang":
                self._stop.wait(30)
            else:  # close with SO_LINGER 0: the client sees a connection reset
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            connection.close()
