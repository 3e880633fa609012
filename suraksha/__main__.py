"""``python -m suraksha``: the same as the ``suraksha`` command."""

from suraksha.cli.main import main

main()
