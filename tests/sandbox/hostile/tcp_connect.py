"""Connect to a TCP listener on the host's loopback."""

import socket


def run(port):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"hello from the sandbox")
    return "connected"
