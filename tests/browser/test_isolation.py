"""The network guard itself: without the route, a non-loopback request still cannot leave the machine."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Error

from .conftest import GA_HOST, META_PIXEL_HOST, VIEWPORT, DemoServer

pytestmark = pytest.mark.browser

# A reserved name (RFC 2606) that no HSTS list knows: plain http stays plain http.
PLAIN_HOST = "tracker.example"


class ProxyWitness:
    """Listens, for one test, on the closed proxy port and records the request lines it gets."""

    def __init__(self, port: int) -> None:
        self.lines: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    head = conn.recv(4096).decode("latin-1")
                except OSError:
                    continue
                if head:
                    self.lines.append(head.split("\r\n", 1)[0])
                conn.sendall(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n"
                    b"Connection: close\r\n\r\nwitness"
                )

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def proxy_witness(closed_proxy_port: int) -> Iterator[ProxyWitness]:
    witness = ProxyWitness(closed_proxy_port)
    yield witness
    witness.close()


def test_every_other_host_goes_to_the_loopback_proxy(
    browser: Browser, demo_server: DemoServer, proxy_witness: ProxyWitness
) -> None:
    """No route here: the launch arguments alone send every non-loopback request to the proxy on
    127.0.0.1 (a closed port everywhere else in the suite), while the demo is reached directly."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        response = page.goto(demo_server.url("/"), wait_until="load")
        assert response is not None and response.status == 200

        # Plain http to a name that is not HSTS-preloaded: the proxy sees the whole request...
        response = page.goto(f"http://{PLAIN_HOST}/pixel?v=2", wait_until="commit")
        assert response is not None and response.status == 403  # the witness's answer
        # ...and https (www.google-analytics.com is HSTS-preloaded, so http becomes https too) asks
        # the proxy for a tunnel, which it refuses.
        with pytest.raises(Error, match=r"net::ERR_TUNNEL_CONNECTION_FAILED"):
            page.goto(f"http://{GA_HOST}/g/collect", wait_until="commit")
    finally:
        context.close()
    assert f"GET http://{PLAIN_HOST}/pixel?v=2 HTTP/1.1" in proxy_witness.lines, proxy_witness.lines
    assert f"CONNECT {GA_HOST}:443 HTTP/1.1" in proxy_witness.lines, proxy_witness.lines
    assert not any(demo_server.base_url.split("//")[1] in line for line in proxy_witness.lines)


def test_with_the_proxy_port_closed_nothing_gets_through(browser: Browser, demo_server: DemoServer) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        for url in (
            f"http://{PLAIN_HOST}/pixel",
            f"https://{GA_HOST}/g/collect",
            f"https://{META_PIXEL_HOST}/tr",
        ):
            with pytest.raises(Error, match=r"net::ERR_PROXY_CONNECTION_FAILED"):
                page.goto(url, wait_until="commit")
        response = context.new_page().goto(demo_server.url("/"), wait_until="load")
        assert response is not None and response.status == 200
    finally:
        context.close()
