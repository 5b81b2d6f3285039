"""Socket.IO websockets for bench/deploy.py: the bare baseline server, and the client process.

    gunicorn ... "bench.websockets:bare_realtime()"     python-socketio on Redis, no database
    python -m gevent.monkey bench/websockets.py         the clients (bench/deploy.py starts it)

The client process reads {"port": ..., "tokens": [...]} on stdin, opens one raw
websocket per token (Engine.IO 4, the token in the Socket.IO CONNECT packet,
subscribed to the public stream), each from its own 127.1.x.y address, prints
how many it opened, answers pings, and on `DONE` prints when each update
carrying a MARK arrived.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

SOCKET_IO = "/socket.io/?EIO=4&transport=websocket"
MARK = re.compile(r"deploybench[0-9a-f]{12}")


def new_mark() -> str:
    """Return a fresh marker to put in a post, which the clients time the arrival of."""
    return f"deploybench{os.urandom(6).hex()}"


# -- the baseline: gunicorn calls `bench.websockets:bare_realtime()` ----------------------------


def bare_realtime():
    """Return a bare python-socketio app on Redis: anyone connects, a POST emits one update to all."""
    import socketio

    env = os.environ
    manager = socketio.RedisManager(env["MICROBLOG_REDIS_URL"], channel=env["MICROBLOG_REDIS_CHANNEL"])
    sio = socketio.Server(async_mode="gevent", client_manager=manager)
    status = json.loads(Path(env["BENCH_BARE_STATUS"]).read_bytes())

    @sio.on("subscribe")
    def subscribe(sid, data):
        sio.enter_room(sid, "public")
        return {"ok": True}

    def http(environ, start_response):
        if environ["PATH_INFO"] == "/metrics":
            body = f"microblog_socketio_clients {len(sio.manager.rooms.get('/', {}).get(None, {}))}\n"
        else:
            form = urllib.parse.parse_qs(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            payload = dict(status, content=f"<p>{form[b'status'][0].decode()}</p>")
            sio.emit("update", {"stream": ["public"], "payload": payload}, to="public")
            body = json.dumps(payload)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]

    return socketio.WSGIApp(sio, http)


# -- the clients: this file under `python -m gevent.monkey` ---------------------------------------


def open_websocket(port: int, i: int, token: str):
    """Connect (from address 127.1.x.y), authenticate with the token, subscribe to the public stream."""
    import socket

    import websocket

    source = (f"127.1.{i // 250}.{i % 250 + 1}", 0)
    sock = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=source)
    url = f"ws://127.0.0.1:{port}{SOCKET_IO}"
    ws = websocket.create_connection(url, socket=sock, timeout=60, suppress_origin=True)
    if not ws.recv().startswith("0"):
        raise ConnectionError("no Engine.IO open packet")
    ws.send("40" + json.dumps({"token": token}))
    if not ws.recv().startswith("40"):
        raise ConnectionRefusedError("Socket.IO CONNECT refused")
    ws.send('421["subscribe",{"stream":"public"}]')
    while not (reply := ws.recv()).startswith("431"):  # its ack
        if reply == "2":
            ws.send("3")
    return ws


def listen(ws, dropped: Counter, arrivals: dict[str, list[float]]) -> None:
    """Answer pings and note when each marked update arrives, until the connection ends."""
    seen: set[str] = set()  # home and public streams may both carry a post
    while True:
        try:
            message = ws.recv()
        except Exception as error:
            dropped[type(error).__name__] += 1
            return
        if not message:
            dropped["closed"] += 1
            return
        if message == "2":
            ws.send("3")  # Engine.IO pong
        elif message.startswith('42["update"') and (mark := MARK.search(message)):
            if mark.group() not in seen:
                seen.add(mark.group())
                arrivals.setdefault(mark.group(), []).append(time.time())


def ws_worker() -> None:
    """Open the websockets stdin asks for, answer pings, note marked updates; report on `DONE`."""
    import gevent
    from gevent import select
    from gevent.lock import BoundedSemaphore

    spec = json.loads(sys.stdin.readline())
    gate = BoundedSemaphore(50)  # handshakes at a time: no stampede on the accept queues
    held, failed, dropped, arrivals = [], Counter(), Counter(), {}

    def hold(i: int, token: str) -> None:
        try:
            with gate:
                ws = open_websocket(spec["port"], i, token)
        except Exception as error:
            failed[type(error).__name__] += 1
            return
        held.append(ws)
        listen(ws, dropped, arrivals)

    started = time.perf_counter()
    for i, token in enumerate(spec["tokens"]):
        gevent.spawn(hold, i, token)
    while len(held) + sum(failed.values()) < len(spec["tokens"]) and time.perf_counter() - started < 300:
        gevent.sleep(0.1)
    opened = {"opened": len(held), "failed": dict(failed), "seconds": time.perf_counter() - started}
    print(json.dumps(opened), flush=True)
    select.select([sys.stdin], [], [])  # wait cooperatively: the connections keep answering pings
    sys.stdin.readline()
    print(json.dumps({"dropped": dict(dropped), "arrivals": arrivals}), flush=True)
    # Exiting closes every connection, as users leaving would.


if __name__ == "__main__":
    ws_worker()
