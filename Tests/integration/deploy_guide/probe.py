#!/usr/bin/python3
"""One HTTP(S) request from inside the guide's scratch host (its own network namespace), for the test:
`probe.py JSON` with {method, url, headers, body, cacert, connect, source}; `connect` is the address to connect
to instead of resolving the URL's host (as curl's --resolve), `source` the local address to send from. Prints
{status, headers, body} as JSON (headers lower-cased, the body as text)."""

import http.client
import json
import socket
import ssl
import sys
import urllib.parse


class Connection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, source, context):
        super().__init__(host, port, context=context, timeout=30)
        self.address = address
        self.source = source
        self.tls = context

    def connect(self):
        raw = socket.create_connection((self.address, self.port), timeout=30,
                                       source_address=(self.source, 0) if self.source else None)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


class PlainConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, source):
        super().__init__(host, port, timeout=30)
        self.address = address
        self.source = source

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), timeout=30,
                                             source_address=(self.source, 0) if self.source else None)


def main():
    request = json.loads(sys.argv[1])
    url = urllib.parse.urlsplit(request["url"])
    address = request.get("connect") or url.hostname
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=request.get("cacert"))
        connection = Connection(url.hostname, url.port or 443, address, request.get("source"), context)
    else:
        connection = PlainConnection(url.hostname, url.port or 80, address, request.get("source"))
    path = url.path + ("?" + url.query if url.query else "")
    body = request.get("body")
    connection.request(request.get("method", "GET"), path or "/",
                       body=body.encode() if isinstance(body, str) else None, headers=request.get("headers", {}))
    response = connection.getresponse()
    data = response.read()
    print(json.dumps({"status": response.status,
                      "headers": {k.lower(): v for k, v in response.getheaders()},
                      "body": data.decode("utf-8", "replace")}))


if __name__ == "__main__":
    main()
