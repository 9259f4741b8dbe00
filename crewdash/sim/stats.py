"""What the simulator saw and did, for `GET /_sim/stats`: tests prove from it, for example,
that no kickoff was sent twice or that a `/resume` carried exactly the right body."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


class SimStats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # crew -> "METHOD /route" -> status -> count
        self.requests: defaultdict[str, defaultdict[str, defaultdict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        self.requests_total = 0
        self.kickoffs: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.stops: list[dict[str, Any]] = []
        self.callbacks: list[dict[str, Any]] = []
        self.faults: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.webhooks_sent = 0
        self.webhooks_failed = 0
        self.deliveries: list[dict[str, Any]] = []

    def count(self, crew: str, route: str, status: int) -> None:
        self.requests[crew][route][str(status)] += 1
        self.requests_total += 1

    def fault(self, crew: str, kind: str) -> None:
        self.faults[crew][kind] += 1

    def delivery(self, record: dict[str, Any]) -> None:
        self.deliveries.append(record)
        if record.get("ok"):
            self.webhooks_sent += 1
        else:
            self.webhooks_failed += 1

    def snapshot(self, *, live_runs: int = 0, total_runs: int = 0) -> dict[str, Any]:
        return {
            "requests": {
                crew: {r: dict(s) for r, s in routes.items()}
                for crew, routes in self.requests.items()
            },
            "requests_total": self.requests_total,
            "kickoffs_accepted": len(self.kickoffs),
            "kickoffs": list(self.kickoffs),
            "resumes": list(self.resumes),
            "stops": len(self.stops),
            "stop_requests": list(self.stops),
            "callbacks": list(self.callbacks),
            "faults": {crew: dict(kinds) for crew, kinds in self.faults.items()},
            "webhooks": {
                "sent": self.webhooks_sent,
                "failed": self.webhooks_failed,
                "deliveries": list(self.deliveries),
            },
            "runs": {"live": live_runs, "total": total_runs},
        }
