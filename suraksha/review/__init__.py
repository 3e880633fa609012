"""Review: queues of cases, claims, reveals (human views), reviewer decisions, four-eyes approvals and
reviewer wellness (exposure budgets, display preferences)."""
