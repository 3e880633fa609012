"""The export's files on their own: CSV cells a spreadsheet would run as a formula are quoted as text,
every shared key of a pair is one edge row with both sides' evidence, and the GraphML (igraph's) holds
the accounts and the edges with their weight and evidence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from suraksha.network import export
from suraksha.network.services import AccountNode, Edge, LinkEvidence, SharedKey

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _graph() -> tuple[list[AccountNode], list[Edge]]:
    accounts = [
        AccountNode(1, "p-1", '=HYPERLINK("x")', None, T, None),
        AccountNode(2, "p-2", "@seller", T, T, T),
    ]
    side_a = LinkEvidence(1, 10, 11, 2, T, T)
    side_b = LinkEvidence(2, 20, 20, 1, T, T)
    keys = (
        SharedKey(5, "upi_id", "till@okaxis", 2, 1.0, "", side_a, side_b),
        SharedKey(
            6, "telegram", "t.me/shop", 30, 0.32, "down-weighted x0.40: shared by 30 accounts", side_a, side_b
        ),
    )
    return accounts, [Edge(1, 2, 1.32, True, keys)]


def test_csv_rows_and_the_formula_guard() -> None:
    accounts, edges = _graph()
    nodes = list(csv.DictReader(io.StringIO(export.nodes_csv(accounts).decode())))
    assert nodes[0]["handle"].startswith("'=")  # read as text, never run
    assert nodes[1]["suspended_at"] == T.isoformat()
    rows = list(csv.DictReader(io.StringIO(export.edges_csv(edges).decode())))
    assert [r["key_kind"] for r in rows] == ["upi_id", "telegram"]
    assert rows[1]["key_note"].startswith("down-weighted")
    assert (rows[0]["a_first_item_id"], rows[0]["b_last_item_id"]) == ("10", "20")


def test_graphml_holds_accounts_and_evidence() -> None:
    accounts, edges = _graph()
    text = export.graphml(accounts, edges).decode()
    assert text.count("<node ") == 2 and text.count("<edge ") == 1
    assert 'attr.name="evidence"' in text and "till@okaxis" in text
    evidence_line = next(line for line in text.splitlines() if "till@okaxis" in line)
    assert "&quot;" in evidence_line or "&#34;" in evidence_line  # the JSON is escaped in the XML
