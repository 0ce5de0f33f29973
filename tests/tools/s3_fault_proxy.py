#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for end-to-end tests of cairn's S3 backend.

It sits between cairn and a real S3 server (scripts/s3-server.sh's RGW):
cairn's AWS_ENDPOINT_URL points at the proxy, the proxy relays every request
to --upstream with the Host header unchanged (so SigV4 signatures still hold)
and, for a seeded random share of the requests, injects a fault instead:

  500    answers 500 InternalError itself (the server never sees the request)
  503    answers 503 SlowDown itself
  drop   reads the request, then closes the connection without an answer
  reset  relays the request, then sends the status line, the headers and
         half of the body, and closes the connection (a torn response)

Every request may also be delayed (--delay-ms, plus up to --jitter-ms), to
make a backup slow enough for a second process to act while it runs. With
--trip REGEX the proxy relays faithfully until the first request whose
"METHOD path?query" matches REGEX has been relayed, then fails every later
request (a fault from --faults, or 503 if none is given): a network that
breaks in the middle of an operation, at a point that does not depend on
timing. With
--region R, a request signed for another region gets AWS's answer to that
(400 AuthorizationHeaderMalformed naming R, header x-amz-bucket-region: R),
which RGW itself never gives: it does not check the region in the signature.

The settings can change while it runs: --control FILE is a JSON object with
any of "fail", "faults", "delay_ms", "jitter_ms", "region", "trip", re-read
whenever the file's mtime changes (a new "trip" re-arms the breaker). --log FILE gets one line per request:

  <seconds since start> <METHOD> <path?query> <status or fault> <bytes in> <bytes out>

(status "-" when the connection was dropped). The proxy listens on
--listen (default 127.0.0.1:0: a free port) and writes the port to
--port-file once it accepts connections. Python 3 standard library only.

  s3_fault_proxy.py --upstream http://127.0.0.1:17480 --port-file P \
      --fail 0.1 --faults 500,503,drop,reset --seed 7 --log proxy.log
"""

import argparse
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "expect",
}
FAULT_KINDS = ("500", "503", "drop", "reset")


def error_xml(code, message, extra=""):
    return (
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>"
        "{}<RequestId>fault-proxy</RequestId></Error>".format(code, message, extra)
    ).encode()


class Settings:
    """The current fault settings; the control file overrides the flags."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.base = {
            "fail": args.fail,
            "faults": args.faults,
            "delay_ms": args.delay_ms,
            "jitter_ms": args.jitter_ms,
            "region": args.region,
            "trip": args.trip,
        }
        self.current = self._normalize(dict(self.base))
        self.control = args.control
        self.control_mtime = None
        self.counts = {}
        self.tripped = False

    def _reload(self):
        if not self.control:
            return
        try:
            mtime = os.stat(self.control).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self.control_mtime:
            return
        self.control_mtime = mtime
        merged = dict(self.base)
        if mtime is not None:
            try:
                with open(self.control) as f:
                    merged.update(json.load(f))
            except (OSError, ValueError) as e:
                print("fault-proxy: ignoring control file {}: {}".format(self.control, e),
                      file=sys.stderr)
        self.tripped = False
        self.current = self._normalize(merged)

    @staticmethod
    def _normalize(s):
        if isinstance(s["faults"], str):
            s["faults"] = [k for k in s["faults"].split(",") if k]
        s["trip_re"] = re.compile(s["trip"]) if s.get("trip") else None
        return s

    def decide(self, request_line):
        """Returns (fault or None, delay in seconds, expected region or None)."""
        with self.lock:
            self._reload()
            s = self.current
            fault = None
            if self.tripped:
                fault = self.rng.choice(s["faults"] or ["503"])
            elif s["trip_re"] is not None:
                self.tripped = s["trip_re"].search(request_line) is not None
            elif s["faults"] and self.rng.random() < float(s["fail"]):
                fault = self.rng.choice(s["faults"])
            delay = float(s["delay_ms"]) / 1000.0
            if float(s["jitter_ms"]) > 0:
                delay += self.rng.uniform(0, float(s["jitter_ms"]) / 1000.0)
            return fault, delay, s["region"]

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cairn-fault-proxy"

    def log_message(self, *args):  # the request log is ours (--log)
        pass

    def _log(self, status, bytes_in, bytes_out):
        srv = self.server
        line = "{:.3f} {} {} {} {} {}\n".format(time.monotonic() - srv.t0, self.command, self.path,
                                                status, bytes_in, bytes_out)
        if srv.logfile:
            with srv.loglock:
                srv.logfile.write(line)
                srv.logfile.flush()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return len(body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _wrong_region(self, expected):
        m = re.search(r"Credential=[^/]*/\d{8}/([^/]*)/", self.headers.get("Authorization") or "")
        if not expected or m is None or m.group(1) == expected:
            return None
        return m.group(1)

    def relay(self):
        srv = self.server
        body = self._read_body()
        fault, delay, region = srv.settings.decide("{} {}".format(self.command, self.path))
        if delay > 0:
            time.sleep(delay)
        wrong = self._wrong_region(region)
        if wrong is not None:
            srv.settings.count("wrong_region")
            msg = ("The authorization header is malformed; the region '{}' is wrong; "
                   "expecting '{}'".format(wrong, region))
            out = self._answer(400, error_xml("AuthorizationHeaderMalformed", msg,
                                              "<Region>{}</Region>".format(region)),
                               [("x-amz-bucket-region", region)])
            self._log("400-region", len(body), out)
            return
        if fault is not None:
            srv.settings.count(fault)
        if fault == "500":
            out = self._answer(500, error_xml("InternalError", "injected by the fault proxy"))
            self._log("500-injected", len(body), out)
            return
        if fault == "503":
            out = self._answer(503, error_xml("SlowDown", "injected by the fault proxy"))
            self._log("503-injected", len(body), out)
            return
        if fault == "drop":
            self._log("drop-injected", len(body), 0)
            self._drop()
            return

        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        try:
            conn = http.client.HTTPConnection(srv.upstream_host, srv.upstream_port, timeout=120)
            conn.request(self.command, self.path, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            self._log("upstream-error:" + type(e).__name__, len(body), 0)
            out = self._answer(502, error_xml("BadGateway", "fault proxy: upstream: {}".format(e)))
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk in ("server", "date"):
                continue
            if lk == "content-length" and self.command != "HEAD":
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        if fault == "reset" and len(data) >= 2:
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._log("reset-injected", len(body), len(data) // 2)
            self._drop()
            return
        if fault == "reset":  # nothing to tear: drop before the headers end
            self._log("reset-injected", len(body), 0)
            self._drop()
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._log(str(resp.status), len(body), len(data))

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = relay


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="http://host:port of the real server")
    p.add_argument("--listen", default="127.0.0.1:0", help="host:port (port 0: any free one)")
    p.add_argument("--port-file", help="write the listening port here once ready")
    p.add_argument("--fail", type=float, default=0.0, help="share of requests to fault, 0..1")
    p.add_argument("--faults", default="500,503,drop,reset",
                   help="comma-separated kinds to choose from: " + ",".join(FAULT_KINDS))
    p.add_argument("--delay-ms", type=float, default=0.0, help="delay before every request")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="plus a random 0..N ms")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--trip", default="",
                   help="after the first request matching this regex, fail all others")
    p.add_argument("--region", default="",
                   help="answer requests signed for another region like AWS does")
    p.add_argument("--control", help="JSON file of settings, re-read when it changes")
    p.add_argument("--log", help="one line per request")
    args = p.parse_args()
    args.faults = [k for k in args.faults.split(",") if k]
    for k in args.faults:
        if k not in FAULT_KINDS:
            p.error("unknown fault kind '{}' (known: {})".format(k, ", ".join(FAULT_KINDS)))
    if not 0.0 <= args.fail <= 1.0:
        p.error("--fail must be between 0 and 1")

    up = urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname or not up.port:
        p.error("--upstream must be http://host:port")
    host, _, port = args.listen.rpartition(":")
    srv = Server((host or "127.0.0.1", int(port)), Handler)
    srv.upstream_host, srv.upstream_port = up.hostname, up.port
    srv.settings = Settings(args)
    srv.t0 = time.monotonic()
    srv.loglock = threading.Lock()
    srv.logfile = open(args.log, "a") if args.log else None
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("{}\n".format(srv.server_address[1]))
        os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
