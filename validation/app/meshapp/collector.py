"""A local HTTP collector that keeps what the Zipkin and Jaeger exporters POST.

Listens on 127.0.0.1 only. POST /zipkin/SERVICE bodies (Zipkin v2 JSON arrays)
are appended one a line to zipkin-bodies.jsonl; POST /jaeger/SERVICE bodies
(a jaeger.thrift Batch in the binary protocol) are appended to
jaeger-batches.bin, each after its length as 4 big-endian bytes. convert.py
turns both into the committed files. Nothing else is accepted, and the body
size is bounded.

    python -m meshapp.collector --port PORT --out DIR
"""

import argparse
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 64 << 20


def serve(port: int, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    zipkin = open(out / "zipkin-bodies.jsonl", "ab")
    jaeger = open(out / "jaeger-batches.bin", "ab")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            kind = self.path.strip("/").split("/")[0]
            if not 0 < length <= MAX_BODY or kind not in ("zipkin", "jaeger"):
                self.send_response(400)
                self.end_headers()
                return
            body = self.rfile.read(length)
            with lock:
                if kind == "zipkin":
                    zipkin.write(body.replace(b"\n", b" ") + b"\n")
                    zipkin.flush()
                else:
                    jaeger.write(struct.pack(">I", len(body)) + body)
                    jaeger.flush()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    try:
        server.serve_forever()
    finally:
        zipkin.close()
        jaeger.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    serve(args.port, args.out)


if __name__ == "__main__":
    main()
