#!/usr/bin/env python3
"""Synthetic scrape targets for bench/prom_scrape_ingest.sh.

Serves N targets on consecutive loopback ports, each exposing about M series
in the text format, shaped like the reference FastAPI app's metrics:
`http_requests_total{handler,method,status}` counters and a classic
histogram `http_request_duration_seconds` per handler. Counter values grow
with every scrape of the target. A control port answers the total number of
scrapes served (`GET /count`). Python standard library only; stops on
SIGTERM or when its parent dies.

    prom_targets.py --port 19200 --targets 50 --series 1000 --control 19199
"""

import argparse
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METHODS = ["GET", "POST", "PUT", "DELETE"]
STATUSES = ["2xx", "4xx", "5xx"]
BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
PER_HANDLER = len(METHODS) * len(STATUSES) + len(BUCKETS) + 2

lock = threading.Lock()
scrapes = 0


def lines_for(target, handlers):
    """(prefix, weight) for every series of a target."""
    out = []
    for h in range(handlers):
        handler = f"/api/v1/resource{h}"
        for m in METHODS:
            for s in STATUSES:
                w = {"2xx": 7, "4xx": 2, "5xx": 1}[s] * (1 + (h + target) % 3)
                out.append((f'http_requests_total{{handler="{handler}",method="{m}",status="{s}"}} ', w))
        for i, le in enumerate(BUCKETS):
            out.append((f'http_request_duration_seconds_bucket{{handler="{handler}",le="{le}"}} ', i + 1))
        out.append((f'http_request_duration_seconds_count{{handler="{handler}"}} ', len(BUCKETS)))
        out.append((f'http_request_duration_seconds_sum{{handler="{handler}"}} ', 0.37))
    return out


def make_handler(series):
    header = (
        "# HELP http_requests_total Total requests.\n# TYPE http_requests_total counter\n"
        "# HELP http_request_duration_seconds Request duration.\n"
        "# TYPE http_request_duration_seconds histogram\n"
    )
    state = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            global scrapes
            state["n"] += 1
            n = state["n"]
            body = header + "".join(f"{p}{round(1000 + n * w, 3)}\n" for p, w in series)
            data = body.encode()
            with lock:
                scrapes += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


class Control(BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            data = f"{scrapes}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--control", type=int, required=True)
    args = ap.parse_args()
    handlers = max(1, args.series // PER_HANDLER)
    servers = []
    for t in range(args.targets):
        srv = ThreadingHTTPServer(("127.0.0.1", args.port + t), make_handler(lines_for(t, handlers)))
        srv.daemon_threads = True
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    ctl = ThreadingHTTPServer(("127.0.0.1", args.control), Control)
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    print(f"{args.targets} targets x {handlers * PER_HANDLER} series", flush=True)
    while True:
        threading.Event().wait(1)
        if os.getppid() != parent:
            sys.exit(0)


if __name__ == "__main__":
    main()
