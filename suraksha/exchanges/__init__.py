"""Hash-list exchanges: banks kept in sync with NCMEC's hash sharing, file lists and the static sample,
through python-threatexchange's clients (docs/exchanges.md)."""
