"""A small closed-loop HTTP load generator for the benchmarks (stdlib only)."""
from __future__ import annotations

import http.client
import os
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

    def __enter__(self) -> "Gunicorn":
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
