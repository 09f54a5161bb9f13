"""A stand-in for Discord's REST API during manual measurements of `raterise serve` with a bot token.

serenity asks the API where the gateway is; when that fails it falls back to Discord's public host
name. This answers any GET whose path contains /gateway with a gateway on a closed loopback port,
so the gateway client only ever retries 127.0.0.1. Everything else gets a 404. Loopback only.

    python3 tests/tools/fake_gateway.py [PORT]      # default 8765; then DISCORD_API_URL=http://127.0.0.1:PORT
"""
import http.server
import json
import sys

GATEWAY = json.dumps({
    "url": "ws://127.0.0.1:9",
    "shards": 1,
    "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = (200, GATEWAY) if "/gateway" in self.path else (404, b"{}")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
