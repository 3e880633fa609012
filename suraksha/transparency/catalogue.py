"""The regulators' templates Suraksha fills, each a versioned definition over the statistics
(``suraksha.transparency.templates`` holds the renderer). docs/transparency.md describes each."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from suraksha.errors import InvalidInput, NotFound
from suraksha.reporting.models import IncidentType
from suraksha.transparency import measures
from suraksha.transparency.statistics import Spread
from suraksha.transparency.tally import REPORT_CATEGORIES
from suraksha.transparency.templates import (
    NOT_COLLECTED,
    Cell,
    CellValue,
    Figures,
    PeriodKind,
    Template,
    period_words,
)

NO_RECORD = "Suraksha holds no record of it."


def _bind(get: Callable[[Figures, str], CellValue], key: str) -> Callable[[Figures], CellValue]:
    return lambda f: get(f, key)


def _median(get: Callable[[Figures], Spread]) -> Callable[[Figures], CellValue]:
    return lambda f: get(f).median_s


def _it_rules_cells() -> tuple[Cell, ...]:
    g, r, p, law = (
        "1. Grievances received by the Grievance Officer (r.3(2))",
        "2. Reports made by users in the service",
        "3. Proactive monitoring with automated tools (r.4(4))",
        "4. Reports to law enforcement",
    )
    kinds = (
        ("general", "grievance", "Other grievances"),
        ("intimate_imagery", "grievance_intimate_imagery", "Intimate imagery, r.3(2)(b)"),
    )
    cells: list[Cell] = []
    for key, kind, words in kinds:
        cells.append(
            Cell(
                f"grievances_received.{key}",
                g,
                f"Grievances received: {words}",
                f"Requests of kind {kind} of jurisdiction IN (or a state of it) received in the month.",
                _bind(lambda f, k: f.grievances_in.received[k], kind),
            )
        )
    cells.append(
        Cell(
            "grievances_received.total",
            g,
            "Grievances received: total",
            "The two rows above added.",
            lambda f: sum(f.grievances_in.received.values()),
        )
    )
    for key, kind, words in kinds:
        cells.append(
            Cell(
                f"grievances_actioned.{key}",
                g,
                f"Grievances acted on: {words}",
                f"Requests of kind {kind} (IN) the desk acted on in the month (acted_at).",
                _bind(lambda f, k: f.grievances_in.actioned[k], kind),
            )
        )
    for key, kind, words in kinds:
        cells.append(
            Cell(
                f"grievances_resolved.{key}",
                g,
                f"Grievances resolved: {words}",
                f"Requests of kind {kind} (IN) answered in the month (answered_at).",
                _bind(lambda f, k: f.grievances_in.resolved[k], kind),
            )
        )
    cells.append(
        Cell(
            "grievances_items_removed",
            g,
            "Items removed or disabled on grievances",
            "Distinct items with a remove or withhold action written in the month under the legal desk's "
            "decision on an IN grievance.",
            lambda f: f.grievances_in.items_removed,
        )
    )
    cells += [
        Cell(
            "user_reports_received.user",
            r,
            "Reports received from users",
            "Items received in the month with reporter_kind user.",
            lambda f: f.user_reports["user"],
        ),
        Cell(
            "user_reports_actioned.user",
            r,
            "Reported items removed or disabled (users)",
            "Distinct items reported by users with a remove, withhold or restrict action written in the "
            "month.",
            lambda f: f.reported_removed["user"],
        ),
        Cell(
            "user_reports_received.trusted_flagger",
            r,
            "Reports received from trusted flaggers",
            "Notices received in the month from registered trusted flaggers (flagger_notices; a notice "
            "naming several posts counts once). Version 1 counted items with reporter_kind "
            "trusted_flagger, which misses the posts Suraksha already held when a notice named them.",
            lambda f: f.flagger_notices.received,
        ),
        Cell(
            "user_reports_actioned.trusted_flagger",
            r,
            "Reported items removed or disabled (trusted flaggers)",
            "Distinct items a trusted flagger's notice named (flagger_notice_targets) with a remove, "
            "withhold or restrict action written in the month.",
            lambda f: f.noticed_removed.trusted_flagger,
        ),
    ]
    cells.append(
        Cell(
            "proactive.identified_by_hash",
            p,
            "Items identified by hash matching",
            "Items with a violation decision in the month that matched a hash list (any category), "
            "from the statistics (identified_by_source hash:*).",
            lambda f: sum(v for k, v in f.stats.identified_by_source.items() if k.startswith("hash:")),
        )
    )
    for source, words in (("text_rule", "text rules"), ("classifier", "classifiers")):
        cells.append(
            Cell(
                f"proactive.identified_by_{source}",
                p,
                f"Items identified by {words}",
                f"Items with a violation decision in the month identified by {words} (statistics: "
                f"identified_by_source {source}).",
                _bind(lambda f, s: f.stats.identified_by_source.get(s, 0), source),
            )
        )
    for category in REPORT_CATEGORIES:
        cells.append(
            Cell(
                f"proactive.removed.{category}",
                p,
                f"Items removed or disabled by automated tools: {category.replace('_', ' ')}",
                "Distinct items with an automated remove, withhold or restrict action written in the "
                f"month whose decision's category is {category} (categories folded as "
                "docs/transparency.md lists).",
                _bind(lambda f, c: f.removed_automated[c], category),
            )
        )
    cells.append(
        Cell(
            "proactive.removed.total",
            p,
            "Items removed or disabled by automated tools: total",
            "Distinct items with an automated remove, withhold or restrict action written in the month.",
            lambda f: f.removed_items_automated,
        )
    )
    cells.append(
        Cell(
            "proactive.accounts_suspended",
            p,
            "Accounts suspended",
            "Suspend actions written in the month (statistics: actions suspend).",
            lambda f: f.stats.actions["suspend"],
        )
    )
    cells.append(
        Cell(
            "law.cybertipline_reports",
            law,
            "CyberTipline reports finished",
            "Reports NCMEC accepted as finished in the month (statistics).",
            lambda f: f.stats.cybertipline_reports_finished,
        )
    )
    cells.append(
        Cell(
            "law.police_referrals_sent",
            law,
            "Police referrals sent",
            "Referral packages marked sent in the month (statistics).",
            lambda f: f.stats.referrals_sent,
        )
    )
    return tuple(cells)


IT_RULES_MONTHLY = Template(
    id="it-rules-monthly",
    version="2",
    title="Monthly compliance report",
    source="Information Technology (Intermediary Guidelines and Digital Media Ethics Code) Rules, 2021, "
    "rule 4(1)(d)",
    period_kind=PeriodKind.MONTH,
    formats=("pdf", "csv"),
    cells=_it_rules_cells(),
)


def _dsa_cells() -> tuple[Cell, ...]:
    ident, ord_act, ord_info, notices, own, compl, auto, people, users = (
        "1.1 Report identification",
        "1.2.1 Member State orders to act against illegal content (Art. 15(1)(a))",
        "1.2.2 Member State orders to provide information (Art. 15(1)(a))",
        "1.3 Notices submitted in accordance with Art. 16 (Art. 15(1)(b))",
        "1.4 Own-initiative content moderation (Art. 15(1)(c))",
        "1.5 Complaints, out-of-court settlement and suspensions (Art. 15(1)(d), 24(1))",
        "1.6 Use of automated means and indicators of accuracy (Art. 15(1)(e))",
        "1.7 Human resources for content moderation (Art. 42(2))",
        "1.8 Average monthly active recipients (Art. 42(3))",
    )
    c: list[Cell] = [
        Cell(
            "provider_name",
            ident,
            "Name of the provider",
            "Setting platform_name.",
            lambda f: f.organisation or NOT_COLLECTED,
            unit="text",
        ),
        Cell(
            "period_start",
            ident,
            "Start of the reporting period",
            "The first day reported.",
            lambda f: f.period.start.date().isoformat(),
            unit="date",
        ),
        Cell(
            "period_end",
            ident,
            "End of the reporting period",
            "The last day reported.",
            lambda f: period_words(f.period).split(" to ")[1],
            unit="date",
        ),
        Cell("service_name", ident, "Name of the service", NO_RECORD, None, unit="text"),
        Cell(
            "orders_act.received",
            ord_act,
            "Orders to act received",
            "Blocking orders, removal notices and court orders from EU/EEA authorities (or the Union's) "
            "received in the period.",
            lambda f: f.eu_removal_orders.received,
        ),
    ]
    for state in measures.EEA_STATES:
        c.append(
            Cell(
                f"orders_act.member_state.{state}",
                ord_act,
                f"Orders to act received from {state}",
                f"As above, from authorities of {state}.",
                _bind(lambda f, s: f.eu_removal_orders.by_state[s], state),
            )
        )
    c += [
        Cell(
            "orders_act.by_type_of_illegal_content",
            ord_act,
            "Orders to act by type of illegal content",
            "The desk records no content type per order.",
            None,
        ),
        Cell(
            "orders_act.median_time_to_acknowledge_s",
            ord_act,
            "Median time to confirm receipt",
            "Receipt to acknowledgement, over the orders acknowledged.",
            _median(lambda f: f.eu_removal_orders.to_acknowledge),
            unit="seconds",
        ),
        Cell(
            "orders_act.median_time_to_give_effect_s",
            ord_act,
            "Median time to give effect to the order",
            "Receipt to the desk acting on it, over the orders acted on.",
            _median(lambda f: f.eu_removal_orders.to_act),
            unit="seconds",
        ),
        Cell(
            "orders_info.received",
            ord_info,
            "Orders to provide information received",
            "Data disclosure, emergency disclosure and preservation requests from EU/EEA authorities "
            "received in the period.",
            lambda f: f.eu_information_orders.received,
        ),
        Cell(
            "orders_info.median_time_to_acknowledge_s",
            ord_info,
            "Median time to confirm receipt",
            "Receipt to acknowledgement.",
            _median(lambda f: f.eu_information_orders.to_acknowledge),
            unit="seconds",
        ),
        Cell(
            "orders_info.median_time_to_give_effect_s",
            ord_info,
            "Median time to give effect to the order",
            "Receipt to the answer.",
            _median(lambda f: f.eu_information_orders.to_answer),
            unit="seconds",
        ),
        Cell(
            "notices.received",
            notices,
            "Notices received",
            "Items received in the period that a user reported, and notices received in the period from "
            "trusted flaggers (the row below), added.",
            lambda f: f.user_reports["user"] + f.flagger_notices.received,
        ),
        Cell(
            "notices.trusted_flaggers",
            notices,
            "Notices from trusted flaggers (Art. 22)",
            "Notices received in the period from registered trusted flaggers (flagger_notices; a notice "
            "naming several posts counts once).",
            lambda f: f.flagger_notices.received,
        ),
        Cell(
            "notices.trusted_flaggers_confirmed",
            notices,
            "Notices from trusted flaggers confirmed",
            "Of the trusted flaggers' notices received in the period, those a reviewer confirmed (a "
            "violation found in at least one thing named), as they stand when the report is made.",
            lambda f: f.flagger_notices.confirmed,
        ),
        Cell(
            "notices.trusted_flaggers_median_time_to_decision_s",
            notices,
            "Median time to decide notices from trusted flaggers",
            "Of the trusted flaggers' notices received in the period and decided by a reviewer: receipt "
            "to decision (the mean of the middle two for an even count).",
            lambda f: f.flagger_notices.median_decision_s,
            unit="seconds",
        ),
        Cell(
            "notices.by_type_of_alleged_illegal_content",
            notices,
            "Notices by type of alleged illegal content",
            "Reports carry the reporter's free-text reason, not a type.",
            None,
        ),
        Cell(
            "notices.actioned",
            notices,
            "Notices on which action was taken",
            "Distinct items a user reported or a trusted flagger's notice named (flagger_notice_targets) "
            "with a remove, withhold or restrict action written in the period, each once.",
            lambda f: f.noticed_removed.either,
        ),
        Cell(
            "notices.median_time_to_decision_s",
            notices,
            "Median time to take the decision",
            "For items reported in the period: receipt to the first decision that settled them.",
            _median(lambda f: f.notice_times),
            unit="seconds",
        ),
        Cell(
            "notices.processed_by_automated_means",
            notices,
            "Notices processed by automated means",
            "Suraksha does not record which notices were processed by automated means alone.",
            None,
        ),
    ]
    for kind in ("remove", "withhold", "restrict", "suspend", "restore"):
        c.append(
            Cell(
                f"own_initiative.actions.{kind}",
                own,
                f"Measures taken: {kind}",
                f"{kind} actions written in the period (statistics: actions {kind}).",
                _bind(lambda f, k: f.stats.actions[k], kind),
            )
        )
    for category in REPORT_CATEGORIES:
        c.append(
            Cell(
                f"own_initiative.removed.{category}",
                own,
                f"Items removed or disabled: {category.replace('_', ' ')}",
                f"Distinct items with a remove, withhold or restrict action in the period whose decision's "
                f"category is {category}, automated and by people added.",
                _bind(lambda f, k: f.removed_automated[k] + f.removed_by_people[k], category),
            )
        )
    c += [
        Cell(
            "own_initiative.identified_items",
            own,
            "Items identified as violating",
            "Items with a violation decision in the period (statistics: identified_items).",
            lambda f: f.stats.identified_items,
        ),
        Cell(
            "complaints.received",
            compl,
            "Complaints received through the internal complaint-handling system",
            "Appeals lodged in the period (appeals, received_at).",
            lambda f: f.appeals.lodged,
        ),
        Cell(
            "complaints.median_time_s",
            compl,
            "Median time to decide complaints",
            "Of the appeals decided in the period (upheld or reversed, after the second person where "
            "one is needed): lodging to decision (the mean of the middle two for an even count).",
            lambda f: f.appeals.median_decision_s,
            unit="seconds",
        ),
        Cell(
            "complaints.decisions_upheld",
            compl,
            "Decisions upheld",
            "Appeals decided in the period that upheld the decision.",
            lambda f: f.appeals.upheld,
        ),
        Cell(
            "complaints.decisions_reversed",
            compl,
            "Decisions reversed",
            "Appeals decided in the period that reversed the decision (version 1 counted restore "
            "actions, which a person may also write without an appeal).",
            lambda f: f.appeals.reversed,
        ),
        Cell(
            "out_of_court.disputes",
            compl,
            "Disputes submitted to out-of-court settlement bodies",
            NO_RECORD,
            None,
        ),
        Cell(
            "suspensions.art23_repeat_offenders",
            compl,
            "Suspensions for manifestly illegal content (Art. 23)",
            "Suspend actions written in the period (statistics: actions suspend).",
            lambda f: f.stats.actions["suspend"],
        ),
        Cell(
            "suspensions.art23_unfounded_notices",
            compl,
            "Suspensions for manifestly unfounded notices (Art. 23(2))",
            NO_RECORD,
            None,
        ),
        Cell(
            "automated.decisions",
            auto,
            "Decisions taken by automated means",
            "Decisions in the period by policy, no person (statistics: decided_automatically).",
            lambda f: f.stats.decided_automatically,
        ),
        Cell(
            "automated.decisions_by_people",
            auto,
            "Decisions taken by people",
            "Decisions in the period by a reviewer or the legal desk (statistics: decided_by_people).",
            lambda f: f.stats.decided_by_people,
        ),
        Cell(
            "automated.removed_items",
            auto,
            "Items removed or disabled by automated means",
            "Distinct items with an automated remove, withhold or restrict action in the period.",
            lambda f: f.removed_items_automated,
        ),
        Cell(
            "automated.accuracy_indicator",
            auto,
            "Indicators of accuracy and possible rate of error",
            "Suraksha does not yet measure the error rate of its automated decisions.",
            None,
        ),
        Cell(
            "human_resources.moderators",
            people,
            "Human resources dedicated to content moderation",
            NO_RECORD,
            None,
        ),
        Cell(
            "recipients.average_monthly_active", users, "Average monthly active recipients", NO_RECORD, None
        ),
    ]
    return tuple(c)


DSA_TRANSPARENCY = Template(
    id="dsa-transparency",
    version="2",
    title="DSA transparency report (quantitative template)",
    source="Commission Implementing Regulation (EU) 2024/2835, Annex I, Part II, 1. Quantitative template; "
    "Regulation (EU) 2022/2065 Arts. 15, 24 and 42",
    period_kind=PeriodKind.CUSTOM,
    formats=("csv",),
    cells=_dsa_cells(),
)


def _ncmec_cells() -> tuple[Cell, ...]:
    total, by_type = "Reports to the CyberTipline", "By incident type"
    cells = [
        Cell(
            "reports_finished",
            total,
            "CyberTipline reports finished",
            "Reports NCMEC accepted as finished in the year (statistics: cybertipline_reports_finished).",
            lambda f: f.stats.cybertipline_reports_finished,
        ),
        Cell(
            "files_reported",
            total,
            "Files reported",
            "Files in those reports (statistics: cybertipline_files_reported).",
            lambda f: f.stats.cybertipline_files_reported,
        ),
        Cell(
            "reports_escalated",
            total,
            "Reports escalated (child at immediate risk)",
            "Finished reports sent with escalateToHighPriority.",
            lambda f: sum(v.escalated for v in f.incidents.values()),
        ),
    ]
    for incident in IncidentType:
        key = incident.name.lower()
        cells.append(
            Cell(
                f"reports.{key}",
                by_type,
                f"Reports: {incident.value}",
                f"Finished reports of incidentType {incident.value!r}.",
                _bind(lambda f, t: f.incidents[t].reports, incident.value),
            )
        )
        cells.append(
            Cell(
                f"files.{key}",
                by_type,
                f"Files: {incident.value}",
                f"Files in finished reports of incidentType {incident.value!r}.",
                _bind(lambda f, t: f.incidents[t].files, incident.value),
            )
        )
    return tuple(cells)


NCMEC_ANNUAL = Template(
    id="ncmec-annual",
    version="1",
    title="CyberTipline reports for the year",
    source="18 U.S.C. 2258A reports to NCMEC's CyberTipline, counted as NCMEC publishes them per provider",
    period_kind=PeriodKind.YEAR,
    formats=("csv", "pdf"),
    cells=_ncmec_cells(),
)

TEMPLATES: dict[str, Template] = {t.id: t for t in (IT_RULES_MONTHLY, DSA_TRANSPARENCY, NCMEC_ANNUAL)}


def get_template(template_id: str) -> Template:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise NotFound(
            f"no template {template_id[:60]!r}: choose one of {', '.join(TEMPLATES)} "
            "(`suraksha templates list`)"
        ) from None


def check_format(template: Template, formats: Sequence[str]) -> None:
    wrong = [f for f in formats if f not in template.formats]
    if wrong:
        raise InvalidInput(
            f"{template.id} is produced as {', '.join(template.formats)}, not {', '.join(wrong)}"
        )
