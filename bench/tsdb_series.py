#!/usr/bin/env python3
"""Writes N scrape-shaped label sets, one JSON object per line, in the format
`promtool tsdb bench write` reads (its 20kseries.json): no ':' or ',' in values,
since promtool splits on them."""
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
handlers = ["/", "/items", "/items/{item_id}", "/users", "/users/{user_id}", "/health", "/metrics", "none"]
methods = ["GET", "POST", "PUT", "DELETE"]
statuses = ["2xx", "4xx", "5xx"]
buckets = ["0.1", "0.5", "1.0", "+Inf"]
out = []
instance = 0
while len(out) < n:
    base = {"job": "fastapi", "instance": f"app-{instance}_8000"}
    for h in handlers:
        for m in methods:
            for s in statuses:
                out.append({"__name__": "http_requests_total", "handler": h, "method": m, "status": s, **base})
            for b in buckets:
                out.append({"__name__": "http_request_duration_seconds_bucket", "handler": h, "method": m, "le": b, **base})
            out.append({"__name__": "http_request_duration_seconds_sum", "handler": h, "method": m, **base})
            out.append({"__name__": "http_request_duration_seconds_count", "handler": h, "method": m, **base})
        for name in ["http_request_size_bytes_sum", "http_request_size_bytes_count",
                     "http_response_size_bytes_sum", "http_response_size_bytes_count"]:
            out.append({"__name__": name, "handler": h, **base})
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "up",
                 "scrape_duration_seconds", "scrape_samples_scraped"]:
        out.append({"__name__": name, **base})
    instance += 1
for labels in out[:n]:
    print(json.dumps(labels, separators=(",", ":")))
