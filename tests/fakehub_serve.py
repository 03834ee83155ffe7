"""Serve a synthetic fake Hub in its own process (for the crawl benchmark).

`python -m tests.fakehub_serve --synthetic 5000 --latency 0.05` prints `URL <url>` on stdout once
listening, then serves until stdin closes. A separate process keeps the server's threads from
competing with the crawler for the interpreter lock.
"""

from __future__ import annotations

import argparse
import sys

from tests.fakehub import FakeHub, RateLimit
from tests.fakehub_catalog import synthetic_catalog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, required=True, help="number of datasets")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--viewer-fraction", type=float, default=0.25)
    parser.add_argument("--skipped-fraction", type=float, default=0.05)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--quota", type=int, default=0, help="requests per window (0: no limit)")
    parser.add_argument("--window", type=int, default=10, help="rate-limit window in seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    catalog = synthetic_catalog(
        args.synthetic,
        seed=args.seed,
        viewer_fraction=args.viewer_fraction,
        skipped_fraction=args.skipped_fraction,
    )
    with FakeHub(catalog, page_size=args.page_size) as hub:
        hub.latency_s = args.latency
        if args.quota:
            hub.rate_limit = RateLimit(quota=args.quota, window_s=args.window)
        sys.stdout.write(f"URL {hub.url}\n")
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes our stdin (or dies)
        statuses: dict[int, int] = {}
        for entry in hub.log:
            statuses[entry.status] = statuses.get(entry.status, 0) + 1
        sys.stdout.write(f"REQUESTS {len(hub.log)} STATUSES {statuses}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
