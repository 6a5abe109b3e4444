"""The reference setup's sample API in FastAPI, for side-by-side benchmarks.

Same endpoints, statuses and request log line as `vigil demo`, instrumented
with prometheus-fastapi-instrumentator's defaults. The delay bound comes from
MAX_DELAY (seconds, default 0: the benchmark measures the stack, not sleeps).
"""

import asyncio
import datetime
import logging
import os
import random
import time

from fastapi import FastAPI, Request, Response
from prometheus_fastapi_instrumentator import Instrumentator

MAX_DELAY = float(os.environ.get("MAX_DELAY", "0"))
LOG_FILE = os.environ.get("LOG_FILE", "fastapi-bench.log")

log = logging.getLogger("bench")
log.setLevel(logging.INFO)
log.addHandler(logging.FileHandler(LOG_FILE))

app = FastAPI()


def level_for(status: int) -> str:
    return "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"


@app.middleware("http")
async def log_requests(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    millis = int((time.perf_counter() - started) * 1000)
    client = request.client.host if request.client else "Undefined"
    log.info(
        f"{stamp} | {level_for(response.status_code)} | {request.method} {request.url.path} | "
        f"Requested by: {client} Status: {response.status_code} Duration: {millis} ms"
    )
    return response


async def answer(method: str, response: Response) -> dict:
    await asyncio.sleep(random.uniform(0, MAX_DELAY))
    response.status_code = random.choice([200, 400, 500])
    return {"message": f"{method} endpoint test response"}


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/get_endpoint")
async def get_endpoint(response: Response) -> dict:
    return await answer("GET", response)


@app.post("/post_endpoint")
async def post_endpoint(response: Response) -> dict:
    return await answer("POST", response)


@app.put("/put_endpoint")
async def put_endpoint(response: Response) -> dict:
    return await answer("PUT", response)


@app.delete("/delete_endpoint")
async def delete_endpoint(response: Response) -> dict:
    return await answer("DELETE", response)


Instrumentator().instrument(app).expose(app)
