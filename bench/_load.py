"""Load for the benchmarks: gunicorn started and stopped here, and a load generator.

The load comes from `wrk` (Debian's package; `make bench` and `.ci/run` install it): a C
program that is not the bottleneck on two cores. Without it, a small stdlib generator
stands in, with a printed warning: it shares the cores with the server and saturates
first, so its figures flatter nothing but are not comparable to wrk's.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn with N sync workers on 127.0.0.1, started and stopped by the benchmark."""

    def __init__(self, app: str, env: dict[str, str], workers: int = 2, cwd: Path = ROOT):
        self.port = free_port()
        self.log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(PYTHON_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", app],
            cwd=cwd, env={**os.environ, **env}, start_new_session=True, stdout=self.log, stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn for {app} did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.stop()


@dataclass
class Result:
    statuses: list[int]
    latencies: list[float]
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.statuses) / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    def line(self, name: str) -> str:
        return (f"{name:<28} {len(self.statuses):>5} req  {self.rps:>8.1f} req/s  "
                f"p50 {self.pct(50):>7.1f} ms  p95 {self.pct(95):>7.1f} ms")


def run(port: int, requests: list[tuple[str, str, dict[str, str], bytes | None]], concurrency: int = 16) -> Result:
    """Send every (method, path, headers, body) once, `concurrency` at a time, as fast as possible."""
    lock = threading.Lock()
    queue = list(reversed(requests))
    statuses: list[int] = []
    latencies: list[float] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                method, path, headers, body = queue.pop()
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            elapsed = time.perf_counter() - t0
            with lock:
                statuses.append(status)
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(statuses, latencies, time.perf_counter() - start)


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- wrk --------------------------------------------------------------------------------

WRK = shutil.which("wrk")
_WRK_SCRIPT = r"""
local requests, i = {}, 0
local path_file = os.getenv("BENCH_REQUESTS")
if path_file then
  for line in io.lines(path_file) do
    local method, path, cookie, body = line:match("^(%S+)\t(%S+)\t([^\t]*)\t(.*)$")
    local headers = {}
    if cookie ~= "" then headers["Cookie"] = cookie end
    if method == "POST" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
    table.insert(requests, wrk.format(method, path, headers, body ~= "" and body or nil))
  end
end
local once = os.getenv("BENCH_ONCE") == "1"
local answered, expected, wanted = 0, 0, tonumber(os.getenv("BENCH_EXPECT") or "0")
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } bench_timeval; int gettimeofday(bench_timeval *tv, void *tz); ]]
local function now() local tv = ffi.new("bench_timeval"); ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6 end
local started = nil
request = function()
  if started == nil then started = now() end
  if #requests == 0 then return wrk.request() end
  i = i + 1
  if i > #requests then
    if once then return wrk.format("GET", "/healthz") end  -- in flight while stopping: harmless
    i = 1
  end
  return requests[i]
end
local others, total = {}, tonumber(os.getenv("BENCH_TOTAL") or "0")
response = function(status, headers, body)
  if once and status == 200 and wanted ~= 200 then return end  -- a harmless /healthz, not one of ours
  answered = answered + 1
  if status == wanted then expected = expected + 1 else others[status] = (others[status] or 0) + 1 end
  if once and answered == total then
    for status, n in pairs(others) do io.write(string.format("OTHER %d %d\n", status, n)) end
    io.write(string.format("ONCE-DONE %d %f\n", expected, now() - started))
    io.flush()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH {\"requests\": %d, \"seconds\": %f, \"p50\": %f, \"p95\": %f, \"errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Figure:
    """What a load run measured: requests per second, latency percentiles (ms), failures."""
    name: str
    rps: float
    p50: float
    p95: float
    requests: int
    bad: int  # transport errors and answers other than the expected status

    def line(self, baseline: Figure | None = None) -> str:
        ratio = f"  {self.rps / baseline.rps:>6.1%} of bare Flask" if baseline else ""
        bad = f"  {self.bad} bad" if self.bad else ""
        return (f"{self.name:<34} {self.rps:>8.1f} req/s  p50 {self.p50:>7.1f} ms  p95 {self.p95:>7.1f} ms"
                f"{ratio}{bad}")


def load(port: int, name: str, path: str, *, cookie: str = "", seconds: float = 5.0, connections: int = 16,
         requests: list[tuple[str, str, str, str]] | None = None, expect: int = 200, once: bool = False) -> Figure:
    """GET `path` (or cycle through `requests`: (method, path, cookie, body)) for `seconds`;
    with `once`, send each of `requests` exactly once (one wrk thread) and stop."""
    if WRK is None:
        return _python_load(port, name, path, cookie=cookie, seconds=seconds, connections=connections,
                            requests=requests, expect=expect, once=once)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(_WRK_SCRIPT)
        env = dict(os.environ)
        if requests:
            listing = Path(tmp) / "requests.tsv"
            # wrk asks the script for one request while starting (to learn whether they vary)
            # and may drop it: a harmless first one keeps every real request in the run
            first = [("GET", "/healthz", "", "")] if once else []
            listing.write_text("".join(f"{m}\t{p}\t{c}\t{b}\n" for m, p, c, b in first + requests))
            env["BENCH_REQUESTS"] = str(listing)
        threads = 1 if once else max(1, min(2, connections))
        env["BENCH_EXPECT"] = str(expect)
        if once:
            env["BENCH_ONCE"] = "1"
            env["BENCH_TOTAL"] = str(len(requests))
            seconds = 600  # until every request is answered
        args = [WRK, "-t", str(threads), "-c", str(connections), "-d", f"{max(seconds, 1):.0f}s", "--timeout", "30s",
                "-s", str(script)]
        if cookie:
            args += ["-H", f"Cookie: {cookie}"]
        if once:
            out = _until_done(args + [f"http://127.0.0.1:{port}{path}"], env)
        else:
            out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, env=env,
                                 check=True).stdout
    data = json.loads(re.search(r"^BENCH (.*)$", out, re.M).group(1))
    if not data["requests"]:
        raise RuntimeError(f"{name}: no request completed:\n{out}")
    other = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = data["errors"] + (int(other.group(1)) if other and expect < 300 else 0)
    if once:  # wrk's own clock ran until it was interrupted: the script timed the requests
        done = re.search(r"^ONCE-DONE (\d+) ([\d.]+)$", out, re.M)
        bad = len(requests) - int(done.group(1))  # transport errors of the interrupted tail do not count
        for status, n in re.findall(r"^OTHER (\d+) (\d+)$", out, re.M):
            print(f"  {name}: {n} answered {status}", file=sys.stderr)
        return Figure(name, len(requests) / float(done.group(2)), data["p50"], data["p95"], len(requests), bad)
    return Figure(name, data["requests"] / data["seconds"], data["p50"], data["p95"], data["requests"], bad)


def _until_done(args: list[str], env: dict[str, str]) -> str:
    """Run wrk until its script says every request was answered, then interrupt it (wrk
    keeps its duration even after the script stops sending) and return what it printed."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("ONCE-DONE"):
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    return "".join(lines) + rest


def _python_load(port: int, name: str, path: str, *, cookie: str, seconds: float, connections: int,
                 requests: list[tuple[str, str, str, str]] | None, expect: int, once: bool) -> Figure:
    print(f"  warning: wrk is not installed (apt-get install wrk); '{name}' measured with the Python generator, "
          "which shares the cores with the server: not comparable to wrk figures", file=sys.stderr)
    if requests is None:
        requests = [("GET", path, cookie, "")]
    if once:
        result = run(port, [_as_http(r) for r in requests], connections)
        return Figure(name, result.rps, result.pct(50), result.pct(95), len(result.statuses),
                      sum(1 for s in result.statuses if s != expect))
    # as many requests as the server can do in about `seconds`, estimated from a short first burst
    probe = run(port, [_as_http(r) for r in (requests * 50)[:50]], connections)
    count = max(50, int(probe.rps * seconds))
    result = run(port, [_as_http(r) for r in (requests * (count // len(requests) + 1))[:count]], connections)
    bad = sum(1 for s in result.statuses if s != expect)
    return Figure(name, result.rps, result.pct(50), result.pct(95), len(result.statuses), bad)


def _as_http(request: tuple[str, str, str, str]) -> tuple[str, str, dict[str, str], bytes | None]:
    method, path, cookie, body = request
    headers = {"Cookie": cookie} if cookie else {}
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return method, path, headers, body.encode() if body else None


def warm(port: int, paths: list[tuple[str, str]], times: int = 6) -> None:
    """A few requests per (path, cookie), sent at once: every worker imports, compiles its
    templates, loads its catalogues and builds what a page builds on first use (the
    impact page's city index: seconds) before anything is measured. Sent one after the
    other, they could all reach the same worker and leave the other cold; at once, a
    busy sync worker leaves the next connections to the idle one."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str, cookie: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        conn.getresponse().read()
        conn.close()

    with ThreadPoolExecutor(max_workers=times) as pool:
        for path, cookie in paths:
            list(pool.map(lambda _i, p=path, c=cookie: get(p, c), range(times)))


def status_of(port: int, path: str, cookie: str = "") -> int:
    """One GET's status: a page that redirects (to log in, consent or set up) is not measured."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    status = conn.getresponse().status
    conn.close()
    return status


def bare_flask(seconds: float = 5.0, connections: int = 16) -> Figure:
    """The baseline of every ratio: a bare Flask 'hello' on the same gunicorn, same load."""
    with Gunicorn("bench.bare_app:app", {}) as server:
        warm(server.port, [("/", "")])
        return load(server.port, "bare Flask hello", "/", seconds=seconds, connections=connections)
