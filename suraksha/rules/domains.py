"""Domain facts: is this a real public suffix, is this host a shortener, a link page, a messenger.

The public-suffix check uses ``tldextract`` with the Public Suffix List snapshot it ships, never a
network fetch or a disk cache (``suffix_list_urls=()``, ``cache_dir=None``): extraction must give the
same answer offline, on every worker, for the same package version.

The host lists below are data, not logic; they name well-known public services.
"""

from __future__ import annotations

from functools import cache

import tldextract

# Link shorteners: the link's real destination is hidden behind them.
SHORTENERS = frozenset(
    {
        "bit.ly", "bitly.com", "bitly.is", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd",
        "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "rb.gy", "tiny.cc", "bl.ink", "s.id", "t.ly",
        "shorte.st", "adf.ly", "lnkd.in", "soo.gd", "clck.ru", "qr.ae", "tr.im", "x.co", "y2u.be",
        "short.io", "shorturl.gg", "urlz.fr", "u.to", "surl.li", "tiny.one", "shorter.me", "2.gp",
        "gg.gg", "cli.re", "t2m.io", "bit.do", "mcaf.ee", "ouo.io", "zpr.io", "inx.lv", "kutt.it",
    }
)  # fmt: skip

# "Link in bio" pages: one public page listing a person's other links (often the off-platform ones).
LINK_AGGREGATORS = frozenset(
    {
        "linktr.ee", "beacons.ai", "beacons.page", "linkin.bio", "lnk.bio", "bio.link", "allmylinks.com",
        "campsite.bio", "taplink.cc", "taplink.at", "msha.ke", "carrd.co", "solo.to", "linkpop.com",
        "bio.site", "linkbio.co", "hoo.be", "direct.me", "linkr.bio", "snipfeed.co", "komi.io",
    }
)  # fmt: skip

TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
WHATSAPP_HOSTS = frozenset({"wa.me", "chat.whatsapp.com", "api.whatsapp.com", "whatsapp.com"})
SIGNAL_HOSTS = frozenset({"signal.me", "signal.group"})

# A bare "word.word" in prose is usually a missing space ("tired.so what"), so a domain written
# without a scheme, "www." or a path is taken as a link only under a suffix people commonly link to,
# or when the host is one of the services above.
COMMON_BARE_SUFFIXES = frozenset(
    {
        "com", "net", "org", "in", "co.in", "net.in", "org.in", "io", "me", "ly", "co", "xyz", "app",
        "site", "online", "link", "live", "store", "shop", "info", "biz", "tv", "cc", "gg", "to", "page",
        "club", "top", "bio", "ee", "ai", "pro", "fun", "icu", "vip", "uk", "co.uk", "us", "ru", "su",
    }
)  # fmt: skip


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def split_host(host: str) -> tuple[str, str] | None:
    """``(registered_domain, public_suffix)`` of a host name, or None when its suffix is not public."""
    parts = _extractor().extract_str(host)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}", parts.suffix


def known_service(host: str) -> bool:
    """Whether ``host`` (lower case, no ``www.``) is a shortener, link page or messenger."""
    return (
        host in SHORTENERS
        or host in LINK_AGGREGATORS
        or host in TELEGRAM_HOSTS
        or host in WHATSAPP_HOSTS
        or host in SIGNAL_HOSTS
    )
