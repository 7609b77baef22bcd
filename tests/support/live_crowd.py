"""Many WebSocket clients of the live-updates recipe, in a process of their own
(so that they do not share the tests' GIL with the HTTP client that measures).

    python -m support.live_crowd PORT SESSION_KEY CLIENTS [--expect N] [--timeout S]

It opens CLIENTS WebSockets on 127.0.0.1:PORT/live/, prints ``ready`` once
all are open, then reads. It ends when every client has N snapshot messages
(``--expect``; it then closes them), when every connection is closed by the
server, or after ``--timeout`` seconds, whichever comes first, and prints a
JSON line: for each client, the snapshot ids it got, its close code, and the
monotonic time of the close.
"""

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def client(port, key, results, index, expect, all_open, done):
    ids, code, closed_at = [], None, None
    async with connect(
        f"ws://127.0.0.1:{port}/live/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={key}"},
        compression=None,
        open_timeout=30,
        close_timeout=5,
        ping_interval=None,
    ) as ws:
        all_open.release()
        try:
            while expect is None or len(ids) < expect:
                message = json.loads(await ws.recv())
                if message.get("type") == "snapshot":
                    ids.append(message["snapshot"]["id"])
                    results[index]["ids"] = ids
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            closed_at = time.monotonic()
    results[index].update(ids=ids, code=code, closed_at=closed_at)
    done.release()


async def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("key")
    parser.add_argument("clients", type=int)
    parser.add_argument("--expect", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    results = [
        {"ids": [], "code": None, "closed_at": None} for _ in range(args.clients)
    ]
    opened, done = asyncio.Semaphore(0), asyncio.Semaphore(0)
    tasks = []
    for index in range(args.clients):
        tasks.append(
            asyncio.create_task(
                client(args.port, args.key, results, index, args.expect, opened, done)
            )
        )
        if index % 20 == 19:  # Do not flood the listen backlog.
            await asyncio.sleep(0.01)

    async def wait(semaphore):
        for _ in range(args.clients):
            await semaphore.acquire()

    await asyncio.wait_for(wait(opened), args.timeout)
    print("ready", flush=True)
    try:
        await asyncio.wait_for(wait(done), args.timeout)
    except asyncio.TimeoutError:
        pass
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
