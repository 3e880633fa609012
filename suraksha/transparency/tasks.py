"""The statements-of-reasons job (``transparency.statements``): every ``dsa_sor_every_s`` a worker
writes the statement of each new restriction in scope and submits those due (new ones, and those whose
retry time came). Each statement is its own pair of transactions around its one call
(``statements.submit_due``), so the job holds no transaction open while it talks to the API, and a job
run twice sends nothing twice: a statement is claimed before it is sent.
"""

from __future__ import annotations

from datetime import datetime

from suraksha.db.engine import Database
from suraksha.transparency.ports import StatementsApi
from suraksha.transparency.statements import SorOptions, SubmitCounts, record_due, submit_due

STATEMENTS = "transparency.statements"


def run_statements(db: Database, api: StatementsApi, options: SorOptions, *, now: datetime) -> SubmitCounts:
    """Write the statements due, then submit those due; does nothing while statements are off."""
    if not options.enabled:
        return SubmitCounts()
    with db.session() as session:
        record_due(session, options)
    return submit_due(db, api, options, now=now)
