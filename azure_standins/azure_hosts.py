"""The feed emulator (and Azure Repos' git, azure_repos.py) under Azure's own host names, over
TLS, without touching /etc/hosts.

A throw-away certificate authority (trustme) signs a certificate for the feed hosts and the
blob host; the emulator's two servers speak TLS with it; a local HTTP CONNECT proxy tunnels
those host names, and only those, to them. A client that uses the proxy (HTTPS_PROXY) and
trusts the CA (SSL_CERT_FILE for uv, REQUESTS_CA_BUNDLE for requests, which artifacts-keyring
uses, PIP_CERT for pip) reaches `https://pkgs.dev.azure.com/...` here, with the real URLs: the
template's Azure DevOps Services render, artifacts-keyring's host check and the
credential provider's URL prefixes all see what they would see on Azure.

Any other host gets 403 from the proxy, so nothing leaves this machine.
"""

import select
import socket
import ssl
import threading
from pathlib import Path
from socketserver import BaseRequestHandler, ThreadingTCPServer

import trustme

from azure_standins.azure_repos import AzureRepos
from azure_standins.build_api import BuildApi
from azure_standins.feed_emulator import FeedEmulator
from azure_standins.rules import applies

SERVICES_HOST = "pkgs.dev.azure.com"
# Where Azure Artifacts' pre-signed download links point.
BLOB_HOST = "vsblobprodsu6weu.vsblob.vsassets.io"
# Azure Repos' git over HTTPS (azure_repos.py).
REPOS_HOST = "dev.azure.com"
# The Artifacts REST API of Services' feeds (feed_emulator.py serves it).
FEEDS_HOST = "feeds.dev.azure.com"


class ConnectProxy(ThreadingTCPServer):
    """An HTTP proxy that only tunnels (CONNECT) the hosts it was given, to local ports."""

    daemon_threads = True
    # An idle tunnel waits for its peers; stopping the proxy must not wait for it.
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, routes: dict[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), TunnelHandler)
        self.routes = routes
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class TunnelHandler(BaseRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        host, _, port = target.rpartition(":")
        local_port = self.server.routes.get(host) if method == "CONNECT" else None
        if local_port is None or port != "443":
            self.server.refused.append(f"{method} {target}")
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", local_port)) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            pipe(self.request, upstream)


def pipe(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or resets: a client that gives up
    on a connection is no error of the proxy's)."""
    sockets = [one, other]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (other if source is one else one).sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        return


class AzureHosts:
    """Serve `emulator` as https://pkgs.dev.azure.com (and any `server_hosts`, for Azure
    DevOps Server URLs), its blob store as https://BLOB_HOST, through a proxy."""

    def __init__(
        self,
        emulator: FeedEmulator,
        workdir: Path,
        server_hosts=(),
        repos: AzureRepos | None = None,
    ) -> None:
        self.emulator = emulator
        self.repos = repos
        # The collections' Build REST API, on dev.azure.com (with Azure Repos) and on the
        # servers' hosts (with their feeds).
        self.build_api = BuildApi()
        emulator.build_api = self.build_api
        if repos is not None:
            repos.build_api = self.build_api
        feed_hosts = [SERVICES_HOST, FEEDS_HOST, *server_hosts]
        authority = trustme.CA()
        certificate = authority.issue_cert(*feed_hosts, BLOB_HOST, REPOS_HOST)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file = workdir / "azure-hosts-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        tls = context if applies("hosts.azure-tls") else None
        emulator.start(tls=tls, url=f"https://{SERVICES_HOST}", blob_url=f"https://{BLOB_HOST}")
        feed_port, blob_port = emulator.ports
        routes = {**dict.fromkeys(feed_hosts, feed_port), BLOB_HOST: blob_port}
        if repos is not None:
            repos.start(tls=tls, url=f"https://{REPOS_HOST}")
            routes[REPOS_HOST] = repos.port
        self.proxy = ConnectProxy(routes)
        threading.Thread(target=self.proxy.serve_forever, args=(0.05,), daemon=True).start()

    def client_env(self) -> dict[str, str]:
        """What a client needs to reach the hosts: the proxy, and trust in the CA."""
        return {
            "HTTPS_PROXY": self.proxy.url,
            "https_proxy": self.proxy.url,
            "SSL_CERT_FILE": str(self.ca_file),
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
            "PIP_CERT": str(self.ca_file),
            "GIT_SSL_CAINFO": str(self.ca_file),
        }

    def stop(self) -> None:
        self.proxy.shutdown()
        self.proxy.server_close()
        self.emulator.stop()
        if self.repos is not None:
            self.repos.stop()
