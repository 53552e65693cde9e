"""A local stand-in for a provider's API: replays recorded answers on 127.0.0.1.

A fixture is JSON: {"routes": [{"method", "path", "query"?, "responses": [{"status", "headers"?, "body"?}]}]}.
A route matches the method, the path and, when given, exactly these query parameters (a null value:
the parameter must be absent) and this Authorization header. Its responses are served in order; the last one repeats. `{base}` in a
header or body is the server's own URL, so Link headers point back here. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent


class ReplayServer:
    def __init__(self, fixture: str | Path | dict):
        data = fixture if isinstance(fixture, dict) else json.loads((HERE / fixture).read_text())
        self.routes = data["routes"]
        self.served = [0] * len(self.routes)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, method: str = "GET") -> list[str]:
        return [r["path"] + (f"?{r['query']}" if r["query"] else "") for r in self.requests if r["method"] == method]

    def _match(self, method: str, path: str, query: dict, authorization: str | None) -> int | None:
        for index, route in enumerate(self.routes):
            if route.get("method", "GET") != method or route["path"] != path:
                continue
            if "authorization" in route and route["authorization"] != authorization:
                continue
            wanted = route.get("query")
            if wanted is not None and any(
                (query.get(k) is not None) if v is None else (query.get(k) != str(v)) for k, v in wanted.items()
            ):
                continue
            return index
        return None

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with server.lock:
                    server.requests.append(
                        {
                            "method": self.command,
                            "path": parts.path,
                            "query": parts.query,
                            "authorization": self.headers.get("Authorization"),
                            "private_token": self.headers.get("PRIVATE-TOKEN"),
                        }
                    )
                    index = server._match(self.command, parts.path, query, self.headers.get("Authorization"))
                    if index is None:
                        status, headers, body = 404, {}, {"message": "Not Found (no replay route)"}
                    else:
                        responses = server.routes[index]["responses"]
                        answer = responses[min(server.served[index], len(responses) - 1)]
                        server.served[index] += 1
                        status, headers, body = answer["status"], answer.get("headers", {}), answer.get("body")
                raw = b"" if body is None else json.dumps(body).replace("{base}", server.base).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, str(value).replace("{base}", server.base))
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def clean_env(extra: dict | None = None) -> dict:
    """Environment overrides so a client never sends the replay traffic through the caller's proxy."""
    env = {name: "" for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    env.update(extra or {})
    return env


def load(name: str, *overrides: dict) -> dict:
    """A fixture with routes put in front (they win): override(path, responses, query=…, method=…)."""
    data = json.loads((HERE / name).read_text())
    data["routes"] = [*overrides, *data["routes"]]
    return data


def override(path: str, responses: list[dict], query: dict | None = None, method: str = "GET") -> dict:
    route = {"method": method, "path": path, "responses": responses}
    if query is not None:
        route["query"] = query
    return route
