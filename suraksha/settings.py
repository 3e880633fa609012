"""Settings: one declarative table, one precedence order.

Precedence: environment (``SURAKSHA_<NAME>``) > config file (TOML, ``SURAKSHA_CONFIG`` or
``<config dir>/suraksha.toml``) > default. Secrets are typed so they never print. ``suraksha settings``
and the table in README.md are generated from ``SETTINGS``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from suraksha.errors import ConfigError
from suraksha.files import private_dir, tighten
from suraksha.media.limits import DEFAULT_LIMITS, MediaLimits

APP_NAME = "suraksha"


class Secret(str):
    """A string that never shows itself in repr, logs or tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"

    def reveal(self) -> str:
        return str.__str__(self)


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


@dataclass(frozen=True)
class Setting:
    name: str
    type: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False
    env_only: bool = False
    """Read from the environment (or an override) only, never from the config file: a password that a
    file on disk would keep in plain text."""

    @property
    def env_var(self) -> str:
        return f"SURAKSHA_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        str,
        None,
        "SQLAlchemy URL. Unset: a SQLite file in the user data directory. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
        secret=True,
    ),
    Setting(
        "data_dir",
        str,
        None,
        "Where the embedded database and caches live (default: the platform's "
        "user data directory for 'suraksha').",
    ),
    Setting(
        "pdq_quality_floor",
        int,
        50,
        "PDQ hashes below this quality are 'low quality': stored and reported, never matched.",
    ),
    Setting(
        "pdq_mode",
        str,
        "exact",
        "PDQ hashing mode: 'exact' (reference-identical from RGB) or 'fast' "
        "(luminance straight from the JPEG decoder).",
    ),
    Setting("default_pdq_threshold", int, 31, "PDQ match threshold of a new bank (0-63)."),
    Setting("video_fps", float, 1.0, "vPDQ frames hashed per second of video (0 = every frame)."),
    Setting("vpdq_query_match_percent", float, 80.0, "Default share of query frames that must match."),
    Setting("vpdq_target_match_percent", float, 0.0, "Default share of target frames that must match."),
    Setting("media_max_bytes", int, DEFAULT_LIMITS.max_bytes, "Largest media file accepted, in bytes."),
    Setting(
        "media_max_pixels",
        int,
        DEFAULT_LIMITS.max_pixels,
        "Largest image decoded (width x height): decompression bombs stop here.",
    ),
    Setting("media_max_frames", int, DEFAULT_LIMITS.max_frames, "Most video frames hashed per file."),
    Setting("media_max_video_seconds", float, DEFAULT_LIMITS.max_video_seconds, "Longest video accepted."),
    Setting("media_max_frame_pixels", int, DEFAULT_LIMITS.max_frame_pixels, "Largest video frame decoded."),
    Setting(
        "media_decode_timeout_s",
        float,
        DEFAULT_LIMITS.decode_timeout_s,
        "Wall-clock limit to decode one file; the scan's worker is killed and replaced past it.",
    ),
    Setting("import_max_bytes", int, 512 * 1024 * 1024, "Largest hash-list file accepted by bank import."),
    Setting("sqlite_busy_timeout_s", float, 30.0, "How long a SQLite writer waits for the lock."),
    Setting(
        "plugins",
        str,
        None,
        "Comma-separated names of installed plugins to load (entry points in the 'suraksha' "
        "group). Unset: none; no classifier runs unless named here.",
    ),
    Setting(
        "policy_file",
        str,
        None,
        "YAML decision policy (what each bank category and rule category leads to); unset: the "
        "built-in policy (see suraksha/enforcement/policy.py).",
    ),
    Setting(
        "index_dir",
        str,
        None,
        "Where published match-index generations live (default: <data_dir>/index). Processes start "
        "from the current one, memory-mapped and shared, then follow the bank change feed.",
    ),
    Setting(
        "index_stale_after_s",
        float,
        30.0,
        "A match index not refreshed from the change feed for this long answers not-ready.",
    ),
    Setting(
        "web_max_body_bytes",
        int,
        100 * 1024 * 1024,
        "Largest request body the web service reads (uploads included); larger ones get 413 "
        "before any of it is processed.",
    ),
    Setting(
        "web_header_timeout_s",
        float,
        10.0,
        "`suraksha serve` closes a connection whose request headers have not all arrived this long "
        "after it opened (or after the request's first byte, on a kept-alive connection).",
    ),
    Setting(
        "web_keep_alive_timeout_s",
        int,
        5,
        "`suraksha serve` closes a kept-alive connection idle this long between requests.",
    ),
    Setting(
        "public_base_url",
        str,
        "",
        "The web service's address as its clients reach it (https://suraksha.example.org, with a path "
        "prefix if served under one), for the absolute URLs it hands out (Location, status_url); "
        "empty: those are relative paths. Never taken from the request's Host header.",
    ),
    Setting(
        "web_auth_cache_s",
        float,
        1.0,
        "Seconds a web process reuses a successful API-key check and the read_only kill switch "
        "before reading them again (0: every request). A revoked key stops working, and the switch "
        "takes effect, in every web process within this time.",
    ),
    Setting(
        "metrics_public",
        bool,
        False,
        "Serve /metrics without an API key (for a scraper on a private port or network); "
        "otherwise /metrics needs a key with the read role.",
    ),
    Setting(
        "console_session_idle_minutes",
        float,
        30.0,
        "A console session with no request for this long is over (sign in again).",
    ),
    Setting(
        "console_session_max_hours",
        float,
        12.0,
        "A console session ends this long after sign-in, however active (one working day).",
    ),
    Setting(
        "console_secure_cookies",
        bool,
        True,
        "Console cookies are Secure and __Host- prefixed (sent over HTTPS only). Turn off only to "
        "serve the console over plain HTTP on a loopback address (the demo, tests).",
    ),
    Setting(
        "console_sign_in_max_failures",
        int,
        10,
        "Failed console sign-ins from one client address for one account, per window, before that "
        "pair is refused until the window ends (no number of failures locks the account itself).",
    ),
    Setting(
        "console_sign_in_max_failures_per_address",
        int,
        50,
        "Failed console sign-ins from one client address (any accounts), per window, before the "
        "address is refused until the window ends.",
    ),
    Setting(
        "console_sign_in_max_failures_per_account",
        int,
        20,
        "Failed console sign-ins for one account from addresses it never signed in from, per window, before "
        "the account counts as under a distributed attack until the window ends: then a new address needs "
        "the password and a TOTP code together (the account is never locked for its known addresses).",
    ),
    Setting("console_sign_in_window_minutes", float, 15.0, "The window sign-in failures are counted in."),
    Setting(
        "console_sign_in_known_address_days",
        float,
        30.0,
        "An address that completed a sign-in to an account stays known to it this long (it is not asked "
        "for the second factor with the password while the account is under attack).",
    ),
    Setting(
        "console_totp_max_failures",
        int,
        5,
        "Wrong TOTP codes for one account, per sign-in window, whatever the address, before its codes are "
        "refused until the window ends (only someone with the password reaches the code).",
    ),
    Setting(
        "console_totp_key",
        str,
        None,
        "Key that encrypts console TOTP secrets at rest: base64 of 32 random bytes (make one with "
        "`suraksha vault keygen` and use a separate value). Unset: nobody can set up a second factor.",
        secret=True,
    ),
    Setting(
        "job_keep_done_days",
        float,
        7.0,
        "Finished jobs are purged from the queue table after this many days (0: never). Dead "
        "jobs stay until retried or handled.",
    ),
    Setting(
        "job_lease_s",
        float,
        60.0,
        "How long a worker holds a job before another may take it over (a worker that died); "
        "a running job's lease is extended by heartbeat.",
    ),
    Setting(
        "job_max_attempts",
        int,
        8,
        "Attempts before a failing job is dead-lettered (jobs enqueued without their own limit).",
    ),
    Setting(
        "job_backoff_base_s", float, 5.0, "Delay before the first retry; doubles each attempt, with jitter."
    ),
    Setting("job_backoff_max_s", float, 3600.0, "Longest delay between two attempts of a job."),
    Setting(
        "worker_poll_interval_s", float, 2.0, "Longest sleep of an idle worker between looks for due jobs."
    ),
    Setting("worker_batch_size", int, 10, "Jobs a worker leases at once."),
    Setting(
        "fetch_max_bytes",
        int,
        DEFAULT_LIMITS.max_bytes,
        "Largest media file fetched from a URL, in bytes (a larger Content-Length is refused unread).",
    ),
    Setting(
        "fetch_timeout_s",
        float,
        30.0,
        "Deadline for fetching one media URL: name lookups, connects, redirects and body together.",
    ),
    Setting("fetch_max_redirects", int, 5, "Redirects followed when fetching a media URL."),
    Setting(
        "fetch_allowed_hosts",
        str,
        "",
        "Comma-separated host names media may be fetched from (exact, or *.example.com for names "
        "under it); empty: any host whose addresses are public.",
    ),
    Setting("fetch_allowed_ports", str, "80,443", "Comma-separated ports media URLs may use."),
    Setting(
        "fetch_user_agent",
        str,
        "Suraksha-MediaFetch/0.1",
        "User-Agent sent when fetching media URLs.",
    ),
    Setting("webhook_timeout_s", float, 10.0, "Deadline for one webhook delivery attempt."),
    Setting(
        "action_ack_overdue_s",
        float,
        86400.0,
        "An action the platform has not acknowledged (done or failed) this many seconds after it was "
        "recorded is overdue: listed by `suraksha actions unconfirmed`, flagged in the API, counted in "
        "/metrics (docs/webhooks.md).",
    ),
    Setting(
        "webhook_url",
        str,
        None,
        "Where actions are delivered to the host platform (signed webhooks, docs/webhooks.md); "
        "unset: actions are only offered on the pull feed GET /api/v1/actions.",
    ),
    Setting(
        "webhook_secrets",
        str,
        None,
        "Comma-separated signing secrets for webhook_url; all are used to sign, so a rotation "
        "adds the new one first and drops the old one once the platform verifies with it.",
        secret=True,
    ),
    Setting(
        "webhook_allow_private_network",
        bool,
        False,
        "Let webhook_url resolve to a private (RFC 1918 / unique-local) address: a platform "
        "receiving inside its own network. Loopback and metadata addresses stay refused.",
    ),
    Setting(
        "vault_dir", str, None, "Where the evidence vault's encrypted blobs live (default: <data_dir>/vault)."
    ),
    Setting(
        "vault_kek",
        str,
        None,
        "Evidence vault key-encryption key: base64 of 32 random bytes (`suraksha vault keygen`). Needed "
        "to store media (sealed at rest) and to preserve or open evidence; keep it outside the database "
        "and its backups.",
        secret=True,
    ),
    Setting(
        "vault_kek_previous",
        str,
        None,
        "The KEK being rotated away from: still opens blobs not yet re-wrapped by "
        "`suraksha vault rotate-key`.",
        secret=True,
    ),
    Setting(
        "vault_signing_key",
        str,
        None,
        "Ed25519 private key (base64 of the 32-byte seed) that signs evidence export packages.",
        secret=True,
    ),
    Setting(
        "audit_signing_key",
        str,
        None,
        "Ed25519 private key (base64 of the 32-byte seed, `suraksha audit keygen`) that signs audit "
        "checkpoints; keep it outside the database and its backups. Unset: checkpoints are unsigned.",
        secret=True,
    ),
    Setting(
        "audit_checkpoint_file",
        str,
        None,
        "Append-only file outside the database where audit checkpoints (the chain's signed head) go, "
        "and which `suraksha audit verify` checks against (default: <data_dir>/audit-checkpoints.jsonl).",
    ),
    Setting(
        "audit_checkpoint_every_s",
        float,
        3600.0,
        "How often the worker checkpoints the audit chain (0: only `suraksha audit checkpoint`). Rows "
        "written since the last checkpoint are the ones a database-level rewrite could still hide.",
    ),
    Setting(
        "vault_hold_periods",
        str,
        "",
        "Hold periods per legal basis and jurisdiction, over the built-in ones: comma-separated "
        "basis[@JURISDICTION]=DAYS, e.g. 'law_enforcement_request@IN=90,cybertipline_report=365'.",
    ),
    Setting(
        "vault_decision_hold_basis",
        str,
        "india_it_rules_3_1_g",
        "Legal basis of the hold placed when evidence is preserved for a decision (from the removal).",
    ),
    Setting("vault_jurisdiction", str, "IN", "Jurisdiction of holds placed without one (ISO 3166 code)."),
    Setting("vault_max_blob_bytes", int, 1024 * 1024 * 1024, "Largest single file the vault preserves."),
    Setting(
        "vault_package_max_bytes",
        int,
        4 * 1024 * 1024 * 1024,
        "Largest evidence package written or verified (all files together).",
    ),
    Setting(
        "vault_enrichment_url",
        str,
        None,
        "Optional: the platform's enrichment endpoint, asked (signed like webhooks, webhook_secrets) "
        "for more about a preserved item (emails, IP logs, linked accounts). Unset: no enrichment.",
    ),
    Setting("vault_enrichment_timeout_s", float, 10.0, "Deadline for one enrichment request."),
    Setting("vault_enrichment_max_bytes", int, 1024 * 1024, "Largest enrichment answer read."),
    Setting(
        "rules_max_text_chars",
        int,
        64 * 1024,
        "Longest text field (post, bio, name, handle) the text rules read, in characters; a longer one "
        "is refused, never cut.",
    ),
    Setting(
        "rules_phone_region",
        str,
        "IN",
        "Region (ISO 3166 two-letter code) of phone numbers written without a country code in text.",
    ),
    Setting(
        "rules_pack_paths",
        str,
        None,
        "Extra rule packs: YAML files or folders of them, separated by the OS path separator (':' on "
        "Linux), loaded after the default pack.",
    ),
    Setting("rules_default_pack", bool, True, "Load the rule pack shipped with Suraksha."),
    Setting(
        "ncmec_environment",
        str,
        "test",
        "Which CyberTipline host reports go to: 'test' (exttest.cybertip.org, reports are discarded) "
        "or 'production' (report.cybertip.org: real reports to law enforcement).",
    ),
    Setting(
        "ncmec_url",
        str,
        None,
        "Base URL of the CyberTipline Reporting API, overriding ncmec_environment's host: the local "
        "simulator (`suraksha ncmec-sim`, http://127.0.0.1:PORT/ispws). Plain http only to loopback.",
    ),
    Setting("ncmec_username", str, None, "CyberTipline Reporting API user name (issued by NCMEC).", True),
    Setting("ncmec_password", str, None, "CyberTipline Reporting API password (issued by NCMEC).", True),
    Setting(
        "ncmec_xsd_path",
        str,
        None,
        "NCMEC's report schema (GET /ispws/xsd); every report and fileDetails is validated against it "
        "before it is sent. Unset: <data_dir>/ncmec/cyber_tipline.xsd (`suraksha report fetch-xsd`).",
    ),
    Setting("ncmec_timeout_s", float, 60.0, "Deadline for one CyberTipline API call."),
    Setting(
        "ncmec_finish_within_s",
        float,
        1800.0,
        "An opened report not finished and unchanged for this long is retracted and submitted afresh: "
        "NCMEC deletes unfinished reports 1 h after their last change (keep this well under 3600).",
    ),
    Setting(
        "ncmec_max_server_retries",
        int,
        20,
        "CyberTipline server errors (1xxx, timeouts) retried with backoff before a report is failed "
        "for a person to look at; validation errors (4xxx) are never retried.",
    ),
    Setting("ncmec_retry_base_s", float, 5.0, "First delay after a CyberTipline server error; doubles."),
    Setting("ncmec_retry_max_s", float, 300.0, "Longest delay between two CyberTipline attempts."),
    Setting(
        "report_bundle_window_s",
        float,
        60.0,
        "How long an approved report waits for more files of the same account before it is sent "
        "(one report per reported account, all its files).",
    ),
    Setting("reporter_first_name", str, "", "CyberTipline reporter: first name of the reporting person."),
    Setting("reporter_last_name", str, "", "CyberTipline reporter: last name of the reporting person."),
    Setting("reporter_email", str, "", "CyberTipline reporter: e-mail NCMEC and law enforcement reach."),
    Setting("reporter_phone", str, "", "CyberTipline reporter: phone (optional)."),
    Setting(
        "reporter_company_template",
        str,
        "",
        "Text included in every CyberTipline report: how to serve legal process, retention, "
        "24-hour emergency contact.",
    ),
    Setting("reporter_legal_url", str, "", "CyberTipline reporter: a page for law enforcement (optional)."),
    Setting("reporter_terms_of_service", str, "", "Terms of service text relevant to reports (optional)."),
    Setting("platform_name", str, "", "The host platform's name as reported (incidentSummary platform)."),
    Setting(
        "platform_profile_url",
        str,
        "",
        "Profile URL pattern of the host platform, {handle} and {account_id} filled in "
        "(e.g. https://example.org/u/{handle}); empty: no profile URL in reports.",
    ),
    Setting(
        "platform_item_url",
        str,
        "",
        "Item URL pattern of the host platform, {item_id} filled in; empty: no item URLs in reports.",
    ),
    Setting(
        "review_claim_minutes",
        int,
        15,
        "How long a reviewer's claim on a review case lasts; an expired claim may be taken by another.",
    ),
    Setting(
        "review_exposure_budget",
        str,
        "csam=40 *=200",
        "Reveals of media per reviewer per UTC day, per case category ('category=N', space-separated; "
        "'*' for the rest). Once spent, that category is no longer served to the reviewer that day.",
    ),
    Setting(
        "review_exposure_minutes",
        str,
        "",
        "Minutes of revealed media per reviewer per UTC day, per case category (same form as "
        "review_exposure_budget; empty: no minutes budget). A reveal never hidden again counts up to 60 min.",
    ),
    Setting(
        "review_sla_hours",
        str,
        "csam=1 *=24",
        "Hours from detection within which a review case should be decided, per case category "
        "('category=N', space-separated; '*' for the rest): the due time and time left in the queues.",
    ),
    Setting(
        "review_four_eyes",
        str,
        "*",
        "Case categories (space-separated; '*' for all, empty for none) whose clearinghouse reports and "
        "permanent suspensions need a second reviewer's approval before they are carried out.",
    ),
    Setting(
        "review_allow_list_bank",
        str,
        "false-positives",
        "Allow-list bank that false-positive review decisions add file hashes to (created when missing).",
    ),
    Setting("review_blur_default", bool, True, "Console: media blurred until revealed (users may override)."),
    Setting("review_greyscale_default", bool, True, "Console: media in greyscale (users may override)."),
    Setting(
        "legal_jurisdiction_paths",
        str,
        None,
        "Jurisdiction files (TOML) or folders of them, separated by the OS path separator, loaded after "
        "the built-in ones (suraksha/legal/jurisdictions): each deadline of the legal desk, with its source.",
    ),
    Setting(
        "legal_alert_url",
        str,
        None,
        "Where the legal desk's clock warnings go (the legal team's paging or chat endpoint), signed like "
        "webhooks with webhook_secrets. With neither it nor legal_alert_smtp_host, warnings are logged only.",
    ),
    Setting(
        "legal_alert_smtp_host",
        str,
        None,
        "Mail server for the legal desk's clock warnings (beside or instead of legal_alert_url); unset: "
        "no mail.",
    ),
    Setting("legal_alert_smtp_port", int, 587, "Port of legal_alert_smtp_host (587: submission)."),
    Setting(
        "legal_alert_smtp_starttls",
        bool,
        True,
        "Upgrade the mail connection with STARTTLS (certificate checked) before anything is sent; a "
        "user name and password are only ever sent over it.",
    ),
    Setting("legal_alert_mail_from", str, "", "Sender address of the legal desk's warning mail."),
    Setting(
        "legal_alert_mail_to",
        str,
        "",
        "Where the legal desk's warning mail goes: addresses separated by commas (the legal team's list).",
    ),
    Setting("legal_alert_smtp_user", str, None, "User name for legal_alert_smtp_host, when it asks for one."),
    Setting(
        "legal_alert_smtp_password",
        str,
        None,
        "Password for legal_alert_smtp_user: from the environment only (never the config file), never "
        "logged.",
        secret=True,
        env_only=True,
    ),
    Setting(
        "legal_alert_every_s",
        float,
        60.0,
        "How often a worker looks for legal clocks past a warning share or overdue (0: never).",
    ),
    Setting(
        "dsa_sor_enabled",
        bool,
        False,
        "Write a DSA statement of reasons (Art. 17, 24(5)) for each restriction in scope and submit it to "
        "the Transparency Database (token: SURAKSHA_DSA_TOKEN, from the environment only).",
    ),
    Setting(
        "dsa_sor_scope",
        str,
        "eea_effect",
        "Which restrictions get statements: eea_effect (those that take effect in the EEA: every "
        "removal, restriction and suspension, and withholds naming an EEA state) or eea_only (only "
        "withholds naming an EEA state and orders of EEA authorities).",
    ),
    Setting(
        "dsa_sor_since",
        str,
        None,
        "Only actions written on or after this date (YYYY-MM-DD) get statements; unset: every action.",
    ),
    Setting(
        "dsa_sor_url",
        str,
        None,
        "The statement API's base URL (https://transparency.dsa.ec.europa.eu/api/v1, or the sandbox's); "
        "unset: the local stand-in, which sends nothing.",
    ),
    Setting("dsa_sor_timeout_s", float, 30.0, "Deadline for one statement submission."),
    Setting("dsa_sor_max_attempts", int, 10, "Submissions of one statement before it is marked failed."),
    Setting(
        "dsa_sor_every_s",
        float,
        60.0,
        "How often a worker writes and submits due statements when dsa_sor_enabled (0: only by command).",
    ),
    Setting(
        "dsa_sor_puid_prefix",
        str,
        "suraksha",
        "Start of each statement's platform unique identifier (puid), followed by the action's id.",
    ),
    Setting(
        "dsa_sor_terms_ground",
        str,
        "Terms of service: child safety and non-consensual imagery rules",
        "The contractual ground statements cite for content incompatible with the terms.",
    ),
    Setting(
        "dsa_sor_terms_url", str, "", "Link to those terms (decision_ground_reference_url); empty: none."
    ),
    Setting(
        "stats_rollup_every_s",
        float,
        600.0,
        "How often a worker rolls up complete days of statistics and re-rolls dirty ones (0: never; "
        "statistics are then counted from the raw records).",
    ),
    Setting(
        "stats_rollup_lag_s",
        float,
        7200.0,
        "How long after a UTC day ends its statistics are rolled up (records that arrive late within "
        "it still land in an open day).",
    ),
    Setting(
        "flagger_min_accuracy",
        float,
        0.5,
        "A trusted flagger whose share of decided notices confirmed (a violation found) falls below this "
        "is marked for a review of its status (an audit row; `suraksha flaggers list` shows the mark).",
    ),
    Setting(
        "flagger_accuracy_min_notices",
        int,
        20,
        "Decided notices a flagger needs before its accuracy can mark it for review (fewer say too little).",
    ),
    Setting(
        "platform_item_fetch_url",
        str,
        None,
        "The platform's endpoint Suraksha asks for an item a flagger's notice names that it does not hold "
        "yet (a signed POST, like webhooks with webhook_secrets; docs/flaggers.md). Unset: the local "
        "stand-in, which knows no items.",
    ),
    Setting(
        "network_hub_accounts",
        int,
        200,
        "Account graph: a key (file, identifier, address, device) shared by more accounts than this is a "
        "hub, not evidence, and links nobody.",
    ),
    Setting(
        "network_soft_accounts",
        int,
        20,
        "Account graph: a key shared by more accounts than this counts for less, by sqrt(this / accounts).",
    ),
    Setting(
        "network_min_edge_weight",
        float,
        0.5,
        "Account graph: lighter edges (summed key weights) are not clustered: an upload address alone "
        "weighs 0.25, a payment handle 1.",
    ),
    Setting(
        "network_window_s",
        int,
        86400,
        "Account graph: accounts that upload from one address, or one device, within a window this long "
        "are linked.",
    ),
    Setting(
        "network_pdq_threshold",
        int,
        31,
        "Account graph: files within this PDQ distance are near-duplicates that link their accounts "
        "(0: exact copies only).",
    ),
    Setting(
        "network_leiden_min_accounts",
        int,
        50,
        "Connected groups of more accounts than this are split into communities (Leiden).",
    ),
    Setting(
        "network_leiden_resolution",
        float,
        0.1,
        "Leiden (constant Potts model): the least edge weight per pair of accounts a community holds; "
        "higher gives smaller, denser communities.",
    ),
    Setting("network_cluster_min_accounts", int, 3, "Clusters of fewer accounts are not stored."),
    Setting("network_racket_min_accounts", int, 5, "A suspected racket has at least this many accounts."),
    Setting(
        "network_racket_score",
        float,
        4.0,
        "A cluster scoring this much (docs/network.md: payment handles in common, banked matches, "
        "confirmed violations...) is a suspected racket.",
    ),
    Setting(
        "network_cluster_every_s",
        float,
        0.0,
        "How often a worker clusters the account graph again (0: only by command, `suraksha network "
        "clusters --run`).",
    ),
    Setting(
        "notice_withhold_categories",
        str,
        "csam",
        "Decision categories (space-separated) whose notices to the user are withheld because telling "
        "would tip off the offender; a person releases them (`suraksha user-notices release`).",
    ),
    Setting(
        "notice_release_every_s",
        float,
        300.0,
        "How often a worker releases notices withheld under a gag or an investigation that has ended "
        "(0: only by command).",
    ),
    Setting(
        "appeal_jurisdiction",
        str,
        "IN",
        "Jurisdiction file whose 'appeal' deadlines apply when the platform names none: how long a user "
        "may appeal (lodge) and how soon an appeal is decided (answer).",
    ),
    Setting("appeal_priority", int, 65, "Queue priority (0-100) of an appeal's review case."),
    Setting(
        "appeal_flag_threshold",
        float,
        0.3,
        "Share of appealed decisions reversed above which a rule, list or classifier is flagged as often "
        "wrong.",
    ),
    Setting(
        "appeal_flag_min_count",
        int,
        5,
        "Decided appeals a rule, list or classifier needs before it can be flagged as often wrong.",
    ),
    Setting(
        "exchange_secrets_file",
        str,
        None,
        'TOML file of exchange credentials, name = "user:password" (mode 0600; docs/exchanges.md). '
        "SURAKSHA_EXCHANGE_<NAME>_CREDENTIALS in the environment comes first.",
    ),
    Setting(
        "exchange_fetch_every_s",
        float,
        900.0,
        "How long after a fetch that caught up an exchange is fetched again by a worker (0: only by "
        "command, `suraksha exchange fetch-now`).",
    ),
    Setting(
        "exchange_fetch_budget_s",
        float,
        120.0,
        "Longest one fetch of an exchange runs; it stops after the page in hand and goes on from its "
        "checkpoint in the next one.",
    ),
    Setting("exchange_timeout_s", float, 30.0, "Deadline for one call to an exchange's service."),
    Setting(
        "exchange_commit_entries",
        int,
        5000,
        "A fetch commits the list's pages together, up to about this many entries a transaction, each "
        "with the checkpoint that resumes after it (1: every page alone).",
    ),
    Setting(
        "exchange_backoff_base_s",
        float,
        60.0,
        "Wait after an exchange's first failed fetch; it doubles with each failure in a row.",
    ),
    Setting("exchange_backoff_max_s", float, 21600.0, "Longest wait between failed fetches of an exchange."),
    Setting(
        "flood_window_s",
        float,
        3600.0,
        "Flood quarantine: the window over which a bank entry's matches per hour are counted.",
    ),
    Setting(
        "flood_min_matches_per_hour",
        float,
        100.0,
        "Flood quarantine: a bank entry matching at least this many items per hour over flood_window_s "
        "(and flood_multiple times the typical entry) is quarantined: its matches go to review. 0: off.",
    ),
    Setting(
        "flood_multiple",
        float,
        20.0,
        "Flood quarantine: how many times the typical entry's rate (the mean of the other entries that "
        "matched within flood_baseline_s) an entry's rate must reach as well.",
    ),
    Setting(
        "flood_baseline_s",
        float,
        604800.0,
        "Flood quarantine: how far back the typical entry's rate is measured (match counts older than "
        "this are dropped).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Resolved settings: ``Settings.load()``; tests override with ``Settings.load(overrides)``.

    Every setting is a typed, read-only attribute, so mypy checks each name and type where it is read.
    The annotations below are the typed face of ``SETTINGS`` (the table holds defaults, help and
    secrecy); tests/unit/test_settings.py checks that the two name the same settings with the same types.
    """

    database_url: Secret | None
    data_dir: str | None
    pdq_quality_floor: int
    pdq_mode: str
    default_pdq_threshold: int
    video_fps: float
    vpdq_query_match_percent: float
    vpdq_target_match_percent: float
    media_max_bytes: int
    media_max_pixels: int
    media_max_frames: int
    media_max_video_seconds: float
    media_max_frame_pixels: int
    media_decode_timeout_s: float
    import_max_bytes: int
    sqlite_busy_timeout_s: float
    plugins: str | None
    policy_file: str | None
    index_dir: str | None
    index_stale_after_s: float
    web_max_body_bytes: int
    web_auth_cache_s: float
    metrics_public: bool
    console_session_idle_minutes: float
    console_session_max_hours: float
    console_secure_cookies: bool
    console_sign_in_max_failures: int
    console_sign_in_max_failures_per_address: int
    console_sign_in_window_minutes: float
    job_keep_done_days: float
    job_lease_s: float
    job_max_attempts: int
    job_backoff_base_s: float
    job_backoff_max_s: float
    worker_poll_interval_s: float
    worker_batch_size: int
    fetch_max_bytes: int
    fetch_timeout_s: float
    fetch_max_redirects: int
    fetch_allowed_hosts: str
    fetch_allowed_ports: str
    fetch_user_agent: str
    webhook_timeout_s: float
    action_ack_overdue_s: float
    webhook_url: str | None
    webhook_secrets: Secret | None
    webhook_allow_private_network: bool
    vault_dir: str | None
    vault_kek: Secret | None
    vault_kek_previous: Secret | None
    vault_signing_key: Secret | None
    vault_hold_periods: str
    vault_decision_hold_basis: str
    vault_jurisdiction: str
    vault_max_blob_bytes: int
    vault_package_max_bytes: int
    vault_enrichment_url: str | None
    vault_enrichment_timeout_s: float
    vault_enrichment_max_bytes: int
    rules_max_text_chars: int
    rules_phone_region: str
    rules_pack_paths: str | None
    rules_default_pack: bool
    ncmec_environment: str
    ncmec_url: str | None
    ncmec_username: Secret | None
    ncmec_password: Secret | None
    ncmec_xsd_path: str | None
    ncmec_timeout_s: float
    ncmec_finish_within_s: float
    ncmec_max_server_retries: int
    ncmec_retry_base_s: float
    ncmec_retry_max_s: float
    report_bundle_window_s: float
    reporter_first_name: str
    reporter_last_name: str
    reporter_email: str
    reporter_phone: str
    reporter_company_template: str
    reporter_legal_url: str
    reporter_terms_of_service: str
    platform_name: str
    platform_profile_url: str
    platform_item_url: str
    review_claim_minutes: int
    review_exposure_budget: str
    review_exposure_minutes: str
    review_sla_hours: str
    review_four_eyes: str
    review_allow_list_bank: str
    review_blur_default: bool
    review_greyscale_default: bool
    legal_jurisdiction_paths: str | None

    console_sign_in_max_failures_per_account: int
    console_sign_in_known_address_days: float
    console_totp_max_failures: int
    console_totp_key: Secret | None
    web_header_timeout_s: float
    web_keep_alive_timeout_s: int
    public_base_url: str
    audit_signing_key: Secret | None
    audit_checkpoint_file: str | None
    audit_checkpoint_every_s: float
    legal_alert_url: str | None
    legal_alert_smtp_host: str | None
    legal_alert_smtp_port: int
    legal_alert_smtp_starttls: bool
    legal_alert_mail_from: str
    legal_alert_mail_to: str
    legal_alert_smtp_user: str | None
    legal_alert_smtp_password: Secret | None
    legal_alert_every_s: float
    dsa_sor_enabled: bool
    dsa_sor_scope: str
    dsa_sor_since: str | None
    dsa_sor_url: str | None
    dsa_sor_timeout_s: float
    dsa_sor_max_attempts: int
    dsa_sor_every_s: float
    dsa_sor_puid_prefix: str
    dsa_sor_terms_ground: str
    dsa_sor_terms_url: str
    stats_rollup_every_s: float
    stats_rollup_lag_s: float
    flagger_min_accuracy: float
    flagger_accuracy_min_notices: int
    platform_item_fetch_url: str | None
    network_hub_accounts: int
    network_soft_accounts: int
    network_min_edge_weight: float
    network_window_s: int
    network_pdq_threshold: int
    network_leiden_min_accounts: int
    network_leiden_resolution: float
    network_cluster_min_accounts: int
    network_racket_min_accounts: int
    network_racket_score: float
    network_cluster_every_s: float
    notice_withhold_categories: str
    notice_release_every_s: float
    appeal_jurisdiction: str
    appeal_priority: int
    appeal_flag_threshold: float
    appeal_flag_min_count: int
    exchange_secrets_file: str | None
    exchange_fetch_every_s: float
    exchange_fetch_budget_s: float
    exchange_timeout_s: float
    exchange_commit_entries: int
    exchange_backoff_base_s: float
    exchange_backoff_max_s: float
    flood_window_s: float
    flood_min_matches_per_hour: float
    flood_multiple: float
    flood_baseline_s: float
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> None:
        missing = set(_BY_NAME) - set(values)
        unknown = set(values) - set(_BY_NAME)
        if missing or unknown:
            raise ConfigError(
                f"settings: missing {sorted(missing)}, unknown {sorted(unknown)}; use Settings.load()"
            )
        object.__setattr__(self, "values", MappingProxyType(dict(values)))
        object.__setattr__(self, "sources", MappingProxyType(dict(sources or {})))
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"settings are read-only ({name}); load new ones with Settings.load(overrides)")

    def __repr__(self) -> str:
        return f"Settings({len(self.values)} values)"

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        file_values = _read_config_file(config_file, env)
        unknown = set(file_values) - set(_BY_NAME)
        if unknown:
            raise ConfigError(
                f"unknown setting(s) in the config file: {', '.join(sorted(unknown))}; "
                "`suraksha settings` lists the valid names"
            )
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for setting in SETTINGS:
            if overrides is not None and setting.name in overrides:
                values[setting.name], sources[setting.name] = overrides[setting.name], "override"
            elif setting.env_var in env and env[setting.env_var] != "":
                values[setting.name] = _convert(setting, env[setting.env_var], setting.env_var)
                sources[setting.name] = "environment"
            elif setting.name in file_values and setting.env_only:
                raise ConfigError(
                    f"{setting.name} is read from the environment only ({setting.env_var}), never from "
                    "the config file: remove it there"
                )
            elif setting.name in file_values:
                raw = file_values[setting.name]
                values[setting.name] = (
                    raw if not isinstance(raw, str) else _convert(setting, raw, "config file")
                )
                sources[setting.name] = "config file"
            else:
                values[setting.name], sources[setting.name] = setting.default, "default"
            if setting.secret and isinstance(values[setting.name], str):
                values[setting.name] = Secret(values[setting.name])
        _validate(values)
        return cls(values=values, sources=sources)

    @property
    def data_path(self) -> Path:
        raw = self.data_dir
        return Path(raw) if raw else Path(platformdirs.user_data_dir(APP_NAME))

    def ensure_data_path(self) -> Path:
        """The data folder, made private (0700) when missing, and made private again when an older
        version made it under the umask (it holds the database, media and evidence)."""
        path = private_dir(self.data_path)
        tighten(path)
        return path

    @property
    def index_path(self) -> Path:
        raw = self.index_dir
        return Path(raw) if raw else self.data_path / "index"

    @property
    def resolved_database_url(self) -> str:
        url = self.database_url
        if url:
            return Secret(url).reveal()
        return f"sqlite:///{self.data_path / 'suraksha.sqlite3'}"

    @property
    def media_limits(self) -> MediaLimits:
        return MediaLimits(
            max_bytes=self.media_max_bytes,
            max_pixels=self.media_max_pixels,
            max_frames=self.media_max_frames,
            max_video_seconds=self.media_max_video_seconds,
            max_frame_pixels=self.media_max_frame_pixels,
            decode_timeout_s=self.media_decode_timeout_s,
        )

    def describe(self) -> list[dict[str, str]]:
        """Every setting with its value (secrets masked) and where the value came from."""
        rows = []
        for s in SETTINGS:
            value = self.values[s.name]
            shown = "(set, hidden)" if s.secret and value else repr(value)
            rows.append(
                {
                    "name": s.name,
                    "env": s.env_var,
                    "value": shown,
                    "source": self.sources[s.name],
                    "help": s.help,
                }
            )
        return rows


def _shown_default(setting: Setting) -> str:
    value = setting.default
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def settings_markdown() -> str:
    """The settings table of README.md, made from ``SETTINGS`` (``suraksha settings --markdown``); a
    test compares the README with it, so the two never drift apart."""
    lines = ["| environment variable | default | what it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        what = s.help.replace("|", "\\|") + (" (secret: never printed)" if s.secret else "")
        lines.append(f"| `{s.env_var}` | {_shown_default(s)} | {what} |")
    return "\n".join(lines) + "\n"


def _read_config_file(config_file: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    path = config_file or (Path(env["SURAKSHA_CONFIG"]) if env.get("SURAKSHA_CONFIG") else None)
    explicit = path is not None
    if path is None:
        path = Path(platformdirs.user_config_dir(APP_NAME)) / "suraksha.toml"
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist; fix SURAKSHA_CONFIG or create the file")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _convert(setting: Setting, raw: str, where: str) -> Any:
    convert = _parse_bool if setting.type is bool else setting.type
    try:
        return convert(raw)
    except ValueError as exc:
        shown = "(hidden)" if setting.secret else repr(raw)
        raise ConfigError(
            f"{where}: {setting.name} = {shown} is not a valid {setting.type.__name__}: {exc}"
        ) from None


def _validate(values: Mapping[str, Any]) -> None:
    problems = []
    if not 0 <= values["pdq_quality_floor"] <= 100:
        problems.append("pdq_quality_floor must be between 0 and 100")
    if values["pdq_mode"] not in {"exact", "fast"}:
        problems.append("pdq_mode must be 'exact' or 'fast'")
    if not 0 <= values["default_pdq_threshold"] <= 63:
        problems.append("default_pdq_threshold must be between 0 and 63")
    if values["video_fps"] < 0:
        problems.append("video_fps must be >= 0 (0 = every frame)")
    for name in ("vpdq_query_match_percent", "vpdq_target_match_percent"):
        if not 0 <= values[name] <= 100:
            problems.append(f"{name} must be between 0 and 100")
    for name in (
        "media_max_bytes",
        "media_max_pixels",
        "media_max_frames",
        "media_max_frame_pixels",
        "import_max_bytes",
        "web_max_body_bytes",
    ):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    if values["web_auth_cache_s"] < 0:
        problems.append("web_auth_cache_s must be >= 0 (0 reads the key and the switch on every request)")
    for name in ("media_max_video_seconds", "media_decode_timeout_s", "sqlite_busy_timeout_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    if not 0 <= values["flagger_min_accuracy"] <= 1:
        problems.append("flagger_min_accuracy must be a share between 0 and 1 (0: never mark)")
    for name in ("exchange_fetch_budget_s", "exchange_timeout_s", "exchange_backoff_max_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    for name in ("flood_window_s", "flood_baseline_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    if values["flood_baseline_s"] < values["flood_window_s"]:
        problems.append("flood_baseline_s must be at least flood_window_s")
    if values["flood_min_matches_per_hour"] < 0 or values["flood_multiple"] < 0:
        problems.append("flood_min_matches_per_hour and flood_multiple must be >= 0")
    if values["exchange_commit_entries"] < 1:
        problems.append("exchange_commit_entries must be at least 1")
    for name in ("exchange_fetch_every_s", "exchange_backoff_base_s"):
        if values[name] < 0:
            problems.append(f"{name} must be >= 0")
    if values["flagger_accuracy_min_notices"] < 1:
        problems.append("flagger_accuracy_min_notices must be at least 1")
    if values["dsa_sor_scope"] not in {"eea_effect", "eea_only"}:
        problems.append("dsa_sor_scope must be 'eea_effect' or 'eea_only'")
    if values["dsa_sor_since"]:
        try:
            date.fromisoformat(values["dsa_sor_since"])
        except ValueError:
            problems.append("dsa_sor_since must be a date such as 2026-01-01")
    for name in ("dsa_sor_timeout_s", "dsa_sor_max_attempts"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    for name in ("job_lease_s", "job_max_attempts", "job_backoff_max_s", "worker_poll_interval_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    for name in (
        "console_session_idle_minutes",
        "console_session_max_hours",
        "console_sign_in_max_failures",
        "console_sign_in_max_failures_per_address",
        "console_sign_in_max_failures_per_account",
        "console_sign_in_window_minutes",
        "console_sign_in_known_address_days",
        "console_totp_max_failures",
    ):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    if values["job_backoff_base_s"] < 0:
        problems.append("job_backoff_base_s must be >= 0")
    if values["job_keep_done_days"] < 0:
        problems.append("job_keep_done_days must be >= 0 (0 keeps finished jobs)")
    if values["stats_rollup_every_s"] < 0:
        problems.append("stats_rollup_every_s must be >= 0 (0: no rollup)")
    if values["stats_rollup_lag_s"] < 0:
        problems.append("stats_rollup_lag_s must be >= 0")
    if values["network_hub_accounts"] < 2 or values["network_soft_accounts"] < 1:
        problems.append("network_hub_accounts must be >= 2 and network_soft_accounts >= 1")
    if not 0 <= values["network_pdq_threshold"] <= 63:
        problems.append("network_pdq_threshold must be between 0 and 63")
    if values["network_window_s"] < 1:
        problems.append("network_window_s must be >= 1 (seconds)")
    if values["network_cluster_every_s"] < 0:
        problems.append("network_cluster_every_s must be >= 0 (0: only by command)")
    if values["legal_alert_every_s"] < 0:
        problems.append("legal_alert_every_s must be >= 0 (0: no clock warnings)")
    if values["legal_alert_smtp_host"]:
        if not 0 < values["legal_alert_smtp_port"] < 65536:
            problems.append("legal_alert_smtp_port must be a port number (1-65535)")
        if "@" not in values["legal_alert_mail_from"]:
            problems.append("legal_alert_mail_from must be an address, for mail to the legal desk")
        to = [a.strip() for a in values["legal_alert_mail_to"].split(",") if a.strip()]
        if not to or any("@" not in a for a in to):
            problems.append("legal_alert_mail_to must be one or more addresses, separated by commas")
        if values["legal_alert_smtp_user"] and not values["legal_alert_smtp_starttls"]:
            problems.append(
                "legal_alert_smtp_user needs legal_alert_smtp_starttls: a password never goes in plain text"
            )
    if values["index_stale_after_s"] <= 0:
        problems.append("index_stale_after_s must be positive")
    for name in ("fetch_max_bytes", "fetch_timeout_s", "webhook_timeout_s", "action_ack_overdue_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    if not 0 <= values["fetch_max_redirects"] <= 20:
        problems.append("fetch_max_redirects must be between 0 and 20")
    if not 1 <= values["worker_batch_size"] <= 1000:
        problems.append("worker_batch_size must be between 1 and 1000")
    if values["rules_max_text_chars"] <= 0:
        problems.append("rules_max_text_chars must be positive")
    region = values["rules_phone_region"]
    if not (isinstance(region, str) and len(region.strip()) == 2 and region.strip().isalpha()):
        problems.append("rules_phone_region must be a two-letter region code such as IN")
    if values["ncmec_environment"] not in {"test", "production"}:
        problems.append("ncmec_environment must be 'test' or 'production'")
    if not 0 < values["ncmec_finish_within_s"] < 3600:
        problems.append("ncmec_finish_within_s must be between 0 and 3600 (NCMEC deletes after 1 h)")
    for name in ("ncmec_timeout_s", "ncmec_retry_max_s"):
        if values[name] <= 0:
            problems.append(f"{name} must be positive")
    for name in ("ncmec_retry_base_s", "report_bundle_window_s", "ncmec_max_server_retries"):
        if values[name] < 0:
            problems.append(f"{name} must be >= 0")
    if values["reporter_email"] and "@" not in values["reporter_email"]:
        problems.append("reporter_email must be an e-mail address NCMEC can reach")
    if not 1 <= values["review_claim_minutes"] <= 24 * 60:
        problems.append("review_claim_minutes must be between 1 and 1440")
    for name in ("review_exposure_budget", "review_exposure_minutes", "review_sla_hours"):
        for part in str(values[name] or "").replace(",", " ").split():
            category, _, count = part.partition("=")
            if not category or not count.isdigit():
                problems.append(f"{name}: {part!r} is not 'category=N' (e.g. 'csam=40 *=200')")
    if problems:
        raise ConfigError("invalid settings: " + "; ".join(problems))
