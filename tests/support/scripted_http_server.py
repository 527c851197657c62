#!/usr/bin/env python3
"""A scripted HTTP(S) ingestion server for the daemon's upload tests.

Listens on 127.0.0.1 (an ephemeral port), answers each request with the next step of a script,
and prints one JSON line per request on stdout so a test can wait for it:
  {"n": 1, "method": "POST", "path": "...", "headers": {...}, "body": {...}, "reply": "500"}
The first stdout line is {"port": N}.

Script steps (comma-separated, the last one repeats):
  202 / 500 / 413 ...         answer with that status and a small JSON body
  429:2                       that status with "Retry-After: 2"
  429:date:2                  Retry-After as an HTTP-date 2 seconds ahead
  hang                        read the request, never answer (until the test ends)
  close                       read the request, send half a status line, close
  dup                         202 with "duplicate": true (a batch the server already has)
Only the standard library; used by tests only.
"""
import argparse
import email.utils
import gzip
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"n": 0}


def next_step(script):
    with lock:
        state["n"] += 1
        n = state["n"]
    return n, script[min(n, len(script)) - 1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsable": True}
        n, step = next_step(self.server.script)
        record = {"n": n, "method": self.command, "path": self.path,
                  "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": body, "reply": step, "at": time.time()}
        print(json.dumps(record), flush=True)
        if step == "hang":
            time.sleep(3600)
            return
        if step == "close":
            self.wfile.write(b"HTTP/1.1 20")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        duplicate = step == "dup"
        parts = ["202"] if duplicate else step.split(":")
        status = int(parts[0])
        payload = json.dumps({"accepted": len(body.get("events", [])) if isinstance(body, dict) else 0,
                              "duplicate": duplicate,
                              "reason": "scripted " + parts[0]}).encode()
        self.send_response(status)
        if len(parts) == 2:
            self.send_header("Retry-After", parts[1])
        elif len(parts) == 3 and parts[1] == "date":
            when = time.time() + int(parts[2])
            self.send_header("Retry-After", email.utils.formatdate(when, usegmt=True))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = handle_any
    do_DELETE = handle_any
    do_GET = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", default="202")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.script = args.script.split(",")
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
