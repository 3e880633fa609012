"""The Platform's account-graph operations, as a mixin that ``suraksha.app.Platform`` inherits: the CLI,
the web layer and the worker call these, never the modules underneath. Reads that show accounts and the
evidence linking them are audited (``network:view``) under the name of the person who asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from suraksha import audit
from suraksha.db.base import utcnow
from suraksha.network import graph, services, tasks
from suraksha.network.graph import NearDuplicates
from suraksha.network.models import NetworkRun
from suraksha.network.services import (
    AccountNetwork,
    ClusterDetail,
    ClusterSummary,
    ItemsUpdate,
    NetworkOptions,
    RunSummary,
)
from suraksha.settings import Settings
from suraksha.worker.handlers import HandlerRegistry, JobContext, PermanentFailure

if TYPE_CHECKING:
    from suraksha.db.engine import Database

log = logging.getLogger(__name__)

NETWORK_VIEW = "network:view"
"""The audit action of a read of clusters, accounts and their evidence."""
NETWORK_RUN = "network:run"


class NetworkOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

    @cached_property
    def network_options(self) -> NetworkOptions:
        return NetworkOptions.from_settings(self.settings)

    @cached_property
    def network_near(self) -> NearDuplicates:
        """This process's near-duplicate groups (``graph.NearDuplicates``)."""
        return NearDuplicates(self.network_options.keys.pdq_threshold)

    def network_update_items(self, item_ids: list[int]) -> ItemsUpdate:
        """Link these items into the graph now (what the ``network.items`` job does)."""
        with self.db.session() as session:
            return services.update_items(session, item_ids, self.network_options, self.network_near)

    def network_rebuild(self, *, actor: str, progress: Callable[[int, int], None] | None = None) -> int:
        """The whole graph again from every recorded item; answers the items read."""
        done = graph.rebuild(self.db, self.network_options.keys, progress=progress)
        self.network_near.reset()
        with self.db.session() as session:
            session.add(NetworkRun(kind="rebuild", finished_at=utcnow()))
            audit.record(session, actor, NETWORK_RUN, "network:graph", {"run": "rebuild", "items": done})
        return done

    def network_cluster(self, *, actor: str, progress: Callable[[str], None] | None = None) -> RunSummary:
        """Cluster the graph again, score and store the clusters."""
        summary = services.recluster(self.db, self.network_options, progress=progress)
        with self.db.session() as session:
            audit.record(
                session,
                actor,
                NETWORK_RUN,
                "network:graph",
                {"run": "cluster", "clusters": summary.clusters, "suspected": summary.suspected},
            )
        return summary

    def network_queue_cluster(self, *, actor: str) -> int | None:
        """Ask a worker to cluster the graph again (the ``network.cluster`` job), for callers that must
        not wait for it (the console); one queued run at a time. Answers the job's id, or None when a
        run is already queued."""
        with self.db.session() as session:
            job_id = tasks.queue_cluster(session)
            if job_id is not None:
                audit.record(session, actor, NETWORK_RUN, "network:graph", {"run": "cluster", "job": job_id})
            return job_id

    def network_clusters(self, *, suspected_only: bool = True, limit: int = 50) -> list[ClusterSummary]:
        """Clusters ranked by score (counts and factors only: no account or identifier)."""
        with self.db.reading() as session:
            return services.list_clusters(session, suspected_only=suspected_only, limit=limit)

    def network_cluster_detail(self, cluster_id: int, *, actor: str, limit: int = 5000) -> ClusterDetail:
        """A cluster's accounts, the evidence among them and its alerts (audited)."""
        with self.db.session() as session:
            detail = services.cluster_detail(session, cluster_id, self.network_options.graph, limit=limit)
            audit.record(
                session, actor, NETWORK_VIEW, f"cluster:{cluster_id}", {"accounts": len(detail.accounts)}
            )
            return detail

    def network_account(self, account_id: int, *, actor: str, limit: int = 200) -> AccountNetwork:
        """An account's edges with their evidence, its cluster and its hub keys (audited)."""
        with self.db.session() as session:
            found = services.account_network(session, account_id, self.network_options.graph, limit=limit)
            audit.record(session, actor, NETWORK_VIEW, f"account:{account_id}", {"edges": len(found.edges)})
            return found

    def network_counts(self) -> Mapping[str, int]:
        with self.db.reading() as session:
            return services.graph_counts(session)

    def register_network_jobs(self, registry: HandlerRegistry) -> None:
        registry.register(tasks.ITEMS, self._network_items_job)
        registry.register(tasks.CLUSTER, self._network_cluster_job, transactional=False)
        if self.settings.network_cluster_every_s > 0:
            registry.schedule(tasks.CLUSTER, self.settings.network_cluster_every_s)

    def _network_items_job(self, ctx: JobContext) -> None:
        try:
            ids = tasks.item_ids_of(dict(ctx.payload))
        except ValueError as exc:
            raise PermanentFailure(f"job {ctx.job_id}: {exc}") from exc
        services.update_items(ctx.session, ids, self.network_options, self.network_near)

    def _network_cluster_job(self, _ctx: JobContext) -> None:
        self.network_cluster(actor="worker:network")
