"""Load generators for the API benchmark: `wrk` (Debian) when installed, else a bounded
asyncio + httpx client. Both keep `concurrency` connections busy for `duration_s` seconds and
report requests per second and latency percentiles; neither can run unbounded (time and
request caps, per-request timeouts)."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

REQUEST_TIMEOUT_S = 10.0

# wrk picks a random request per call from a file, one per line: a path (GET), or
# "POST <path> <one-line JSON body>", and prints a JSON line with its latency histogram's
# percentiles when done.
_WRK_SCRIPT = r"""
local requests = {}
init = function(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("^POST (%S+) (.*)$")
    if path then
      local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      headers["Content-Type"] = "application/json"
      requests[#requests + 1] = wrk.format("POST", path, headers, body)
    else
      requests[#requests + 1] = wrk.format("GET", line, wrk.headers)
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end
request = function()
  return requests[math.random(#requests)]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One endpoint under load."""

    endpoint: str
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_available() -> bool:
    """Whether the Debian `wrk` binary is on PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    endpoint: str,
    paths: list[str],
    *,
    concurrency: int,
    duration_s: float,
    threads: int,
    headers: dict[str, str],
) -> LoadResult:
    """`wrk` against random `paths` of one endpoint (a path, or "POST <path> <json>")."""
    with tempfile.TemporaryDirectory(prefix="t2b-wrk-") as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_WRK_SCRIPT, encoding="utf-8")
        path_file = Path(tmp) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration_s))}s",
            f"--timeout={REQUEST_TIMEOUT_S:.0f}s",
            "-s",
            str(script),
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command += [base_url, "--", str(path_file)]
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + 60, check=True
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    seconds = data["duration_us"] / 1e6
    return LoadResult(
        endpoint=endpoint,
        tool="wrk",
        requests=data["requests"],
        seconds=round(seconds, 2),
        rps=round(data["requests"] / seconds, 1),
        p50_ms=round(data["p50_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        max_ms=round(data["max_us"] / 1000, 2),
        errors=data["errors"] + data["non_2xx"],
    )


async def _python_load(
    base_url: str,
    paths: list[str],
    concurrency: int,
    duration_s: float,
    max_requests: int,
    headers: dict[str, str],
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S, headers=headers
    ) as client:
        started = time.perf_counter()
        deadline = started + duration_s

        issued = 0

        async def worker() -> None:
            nonlocal errors, issued
            while time.perf_counter() < deadline and issued < max_requests:
                issued += 1  # counted before the await: the cap is exact across workers
                t0 = time.perf_counter()
                line = random.choice(paths)
                try:
                    if line.startswith("POST "):
                        _, path, body = line.split(" ", 2)
                        response = await client.post(
                            path, content=body, headers={"Content-Type": "application/json"}
                        )
                    else:
                        response = await client.get(line)
                    await response.aread()
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def run_python(
    base_url: str,
    endpoint: str,
    paths: list[str],
    *,
    concurrency: int,
    duration_s: float,
    max_requests: int,
    headers: dict[str, str],
) -> LoadResult:
    """The bounded asyncio + httpx generator (it shares the CPU with the server)."""
    latencies, errors, elapsed = asyncio.run(
        _python_load(base_url, paths, concurrency, duration_s, max_requests, headers)
    )
    lat = sorted(latencies) or [float("nan")]

    def pct(q: float) -> float:
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2)

    return LoadResult(
        endpoint=endpoint,
        tool="python",
        requests=len(latencies),
        seconds=round(elapsed, 2),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        max_ms=round(lat[-1] * 1000, 2),
        errors=errors,
    )
