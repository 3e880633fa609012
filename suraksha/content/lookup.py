"""Finding accounts and items the way people name them.

Authorities, reviewers and operators name a post by its URL or the platform's id and an account by its
handle or profile URL, never by our row ids. Every place a person names an account or an item (CLI,
API, console, the scope of a legal request) resolves it here, so they all accept the same forms:

- ``#123``: our own id (what our pages and exports show);
- a URL of the platform's, read back through the configured URL patterns (``platform_item_url`` with
  ``{item_id}``, ``platform_profile_url`` with ``{handle}`` or ``{account_id}``);
- ``@handle`` (accounts);
- otherwise the platform's own id, then (accounts) the handle without its ``@``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item
from suraksha.errors import Conflict, InvalidInput, NotFound

MAX_REF_CHARS = 2000
ACCOUNT_FORMS = "a platform account id, @handle, profile URL or #id"
ITEM_FORMS = "a platform item id, post URL or #id"


@dataclass(frozen=True)
class UrlPatterns:
    """The platform's URL patterns (settings ``platform_item_url`` and ``platform_profile_url``)."""

    item: str = ""
    profile: str = ""

    def read(self, pattern: str, url: str) -> dict[str, str] | None:
        """The placeholders of ``pattern`` as they stand in ``url``; None when it does not fit."""
        if not pattern:
            return None
        parts = re.split(r"(\{item_id\}|\{handle\}|\{account_id\})", pattern)
        regex = "".join(f"(?P<{p[1:-1]}>[^/?#]+)" if p.startswith("{") else re.escape(p) for p in parts if p)
        found = re.fullmatch(regex + r"/?(?:[?#].*)?", url.strip())
        return found.groupdict() if found else None


def _clean(ref: str, forms: str) -> str:
    ref = ref.strip()
    if not ref or len(ref) > MAX_REF_CHARS:
        raise InvalidInput(f"name it as {forms} (1-{MAX_REF_CHARS} characters)")
    return ref


def _own_id(ref: str) -> int | None:
    if ref.startswith("#") and ref[1:].isdigit() and len(ref) < 20:
        return int(ref[1:])
    return None


def find_account(session: Session, ref: str, patterns: UrlPatterns | None = None) -> Account:
    """The account ``ref`` names (forms in the module docstring). A handle that more than one account
    has used is a Conflict naming them: the caller asks again by platform id."""
    ref = _clean(ref, ACCOUNT_FORMS)
    own = _own_id(ref)
    if own is not None:
        found = session.get(Account, own)
        if found is None:
            raise NotFound(f"no account #{own}")
        return found
    handle: str | None = None
    if ref.startswith(("http://", "https://")):
        parts = (patterns or UrlPatterns()).read((patterns or UrlPatterns()).profile, ref)
        if parts is None:
            raise NotFound(
                f"{ref[:200]} is not a profile URL of the platform's (platform_profile_url is "
                f"{(patterns or UrlPatterns()).profile or 'unset'}): name the account as {ACCOUNT_FORMS}"
            )
        if "account_id" in parts:
            return _by_platform_id(session, parts["account_id"])
        handle = parts["handle"]
    elif ref.startswith("@"):
        handle = ref[1:]
    if handle is None:
        by_id = session.scalar(select(Account).where(Account.platform_account_id == ref))
        if by_id is not None:
            return by_id
        handle = ref
    return _by_handle(session, handle, ref)


def _by_platform_id(session: Session, platform_id: str) -> Account:
    found = session.scalar(select(Account).where(Account.platform_account_id == platform_id))
    if found is None:
        raise NotFound(f"no account with platform id {platform_id!r}")
    return found


def _by_handle(session: Session, handle: str, ref: str) -> Account:
    wanted = handle.lstrip("@").lower()
    candidates = session.scalars(
        select(Account)
        .where(func.lower(Account.handle).in_([wanted, f"@{wanted}"]))
        .order_by(Account.last_seen_at.desc())
        .limit(10)
    ).all()
    if not candidates:
        raise NotFound(f"no account {ref[:200]!r}: name it as {ACCOUNT_FORMS}")
    if len(candidates) > 1:
        ids = ", ".join(c.platform_account_id for c in candidates)
        raise Conflict(f"the handle {handle!r} names several accounts ({ids}): name one by its platform id")
    return candidates[0]


def find_item(session: Session, ref: str, patterns: UrlPatterns | None = None) -> Item:
    """The item ``ref`` names (forms in the module docstring)."""
    ref = _clean(ref, ITEM_FORMS)
    own = _own_id(ref)
    if own is not None:
        found = session.get(Item, own)
        if found is None:
            raise NotFound(f"no item #{own}")
        return found
    platform_id = ref
    if ref.startswith(("http://", "https://")):
        pattern = (patterns or UrlPatterns()).item
        parts = (patterns or UrlPatterns()).read(pattern, ref)
        if parts is None or "item_id" not in parts:
            raise NotFound(
                f"{ref[:200]} is not a post URL of the platform's (platform_item_url is "
                f"{pattern or 'unset'}): name the item as {ITEM_FORMS}"
            )
        platform_id = parts["item_id"]
    found = session.scalar(select(Item).where(Item.platform_item_id == platform_id))
    if found is None:
        raise NotFound(f"no item {ref[:200]!r}: name it as {ITEM_FORMS}")
    return found
