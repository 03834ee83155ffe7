"""The train job of `bench scale`, run in a child process so its peak memory is its own.

`python -m benchmarks.scale_job SPEC.json OUT.json` runs `backend.jobs.train.run_train` with
the settings in SPEC (database, data dir, dims, map model, device) and writes OUT: the
summary, and per phase (as the job's own progress messages name them) when it began, and the
process's peak RSS so far at that moment. The parent reads the phases' lengths from the
start times, and the peak of each phase from the peak at the start of the next.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

# Progress messages carry counters ("epoch 3/400", "9984/10000"); the phase is what precedes.
_COUNTER = re.compile(r"(: epoch| \d+/\d+).*$")


def peak_rss_bytes() -> int:
    """This process's peak resident set (VmHWM), in bytes; 0 where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def phase_of(message: str) -> str:
    """The phase a progress message belongs to ("2-D map, vector", "representations")."""
    return _COUNTER.sub("", message).strip() or message


def main(spec_path: str, out_path: str) -> None:
    from backend.config import Settings
    from backend.jobs.train import TrainRequest, run_train

    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    settings = Settings(_env_file=None, **spec["settings"])
    phases: list[dict[str, Any]] = []
    started = time.perf_counter()

    def progress(_done: int, _total: int | None, message: str | None) -> None:
        name = phase_of(message or "")
        if not phases or phases[-1]["phase"] != name:
            sys.stderr.write(f"[{time.perf_counter() - started:7.1f} s] {name}\n")
            phases.append(
                {
                    "phase": name,
                    "start_s": time.perf_counter() - started,
                    "peak_rss_before": peak_rss_bytes(),
                }
            )
        phases[-1]["last"] = message

    summary = run_train(settings, TrainRequest(dims=tuple(spec["dims"])), progress=progress)
    out = {
        "seconds": time.perf_counter() - started,
        "peak_rss": peak_rss_bytes(),
        "phases": phases,
        "summary": summary.as_dict(),
    }
    Path(out_path).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
