"""Prometheus metrics of one app: requests by route template and status, latency, and the match
index's state. Each app has its own registry (two apps in one process, as in tests, never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "WebMetrics"]

# No ``*_created`` series: they double the output and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WebMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "suraksha_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "suraksha_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.index_entries = Gauge(
            "suraksha_index_entries",
            "Entries in the match index, by signal type.",
            ["signal_type"],
            registry=self.registry,
        )
        self.index_lag = Gauge(
            "suraksha_index_position_lag",
            "Bank changes in the database that the match index has not applied yet (-1: unknown).",
            registry=self.registry,
        )
        self.index_ready = Gauge(
            "suraksha_index_ready", "1 when the match index is loaded and current.", registry=self.registry
        )
        self.jobs = Gauge(
            "suraksha_jobs",
            "Jobs in the database queue, by kind and state (queued, leased, done, dead).",
            ["kind", "state"],
            registry=self.registry,
        )
        self.jobs_due = Gauge(
            "suraksha_jobs_due",
            "Queued jobs whose time has come, waiting for a worker.",
            registry=self.registry,
        )
        self.jobs_oldest_due_seconds = Gauge(
            "suraksha_jobs_oldest_due_seconds",
            "How long the longest-waiting due job has waited (the queue's lag; 0 when none).",
            registry=self.registry,
        )
        self.jobs_expired_leases = Gauge(
            "suraksha_jobs_expired_leases",
            "Leased jobs whose worker stopped heartbeating (died or hung).",
            registry=self.registry,
        )
        self.actions_overdue = Gauge(
            "suraksha_actions_overdue",
            "Actions the platform has not acknowledged (done or failed) within action_ack_overdue_s.",
            registry=self.registry,
        )
        self.actions_failed = Gauge(
            "suraksha_actions_failed",
            "Actions the platform said it could not carry out.",
            registry=self.registry,
        )
        self.bank_quarantines = Gauge(
            "suraksha_bank_quarantines",
            "Bank entries under flood quarantine (their matches go to review until a lead releases them).",
            registry=self.registry,
        )
        self.ready = Gauge(
            "suraksha_ready",
            "1 when the service is ready (index current, database answering).",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
