"""Requests Suraksha makes to the outside world: the address and URL checks, the address-pinned
transport, bounded media fetches and signed webhooks. No database and no web framework: any area may
use it."""
