"""Custodian certificate text for police referrals, one template per jurisdiction.

Each is a form for the platform's records custodian to complete and sign: it states how the
electronic records were produced and identifies them by SHA-256, so a court can admit them. The
wording follows the statute each names; have counsel review it before first use in a jurisdiction.

- ``IN``: Bharatiya Sakshya Adhiniyam, 2023, s.63(4)(c) (admissibility of electronic records; it
  replaced Indian Evidence Act s.65B on 1 July 2024).
- ``US``: Federal Rules of Evidence 902(11) and 902(14) (certified records of a regularly conducted
  activity, and data copied from an electronic device identified by hash).
- any other code: a general declaration of the records custodian.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class CertificateTemplate:
    jurisdiction: str
    title: str
    body: Template


_IN = CertificateTemplate(
    "IN",
    "Certificate under Section 63(4)(c) of the Bharatiya Sakshya Adhiniyam, 2023",
    Template(
        "I, ____________________ (name), ____________________ (designation) of $organisation, "
        "responsible for the operation of the computer systems described below, state as follows:\n"
        "1. The electronic records listed in the annexure (referral $referral, $files file(s), each "
        "identified by its SHA-256 hash value, and the evidence package whose manifest has SHA-256 "
        "$manifest) were produced by $system, operated by $organisation in the ordinary course of its "
        "activities, during the period $period.\n"
        "2. During that period information of the kind contained in the records was regularly fed into "
        "those systems in the ordinary course of those activities.\n"
        "3. Throughout the material part of that period the systems were operating properly; any period "
        "in which they were not did not affect the records or their accuracy.\n"
        "4. The information in the records reproduces or is derived from information fed into the "
        "systems in the ordinary course of those activities, and the hash values identify the records "
        "exactly as preserved.\n"
        "This certificate is given to the best of my knowledge and belief.\n\n"
        "Signature: ____________________   Date: ____________   Place: ____________"
    ),
)

_US = CertificateTemplate(
    "US",
    "Certification of Domestic Records of Regularly Conducted Activity (Fed. R. Evid. 902(11), 902(14))",
    Template(
        "I, ____________________ (name), declare that I am employed by $organisation as "
        "____________________ (title), that I am a custodian of records or otherwise qualified to make "
        "this certification, and that the records described in referral $referral ($files file(s), each "
        "identified by its SHA-256 hash value; evidence package manifest SHA-256 $manifest), produced by "
        "$system during the period $period:\n"
        "(A) were made at or near the time of the occurrence of the matters set forth by, or from "
        "information transmitted by, a person with knowledge of those matters;\n"
        "(B) were kept in the course of the regularly conducted activity of $organisation; and\n"
        "(C) were made by the regularly conducted activity as a regular practice.\n"
        "The copies were verified against the original data by comparing their SHA-256 hash values.\n"
        "I declare under penalty of perjury that the foregoing is true and correct.\n\n"
        "Signature: ____________________   Date: ____________"
    ),
)

_GENERAL = CertificateTemplate(
    "",
    "Declaration of the records custodian",
    Template(
        "I, ____________________ (name), ____________________ (position) of $organisation, declare "
        "that the records described in referral $referral ($files file(s), each identified by its "
        "SHA-256 hash value; evidence package manifest SHA-256 $manifest) were produced by $system in "
        "the ordinary course of business during the period $period, that the system was operating "
        "properly, and that the records are true copies as identified by their hash values.\n\n"
        "Signature: ____________________   Date: ____________   Place: ____________"
    ),
)

TEMPLATES = {t.jurisdiction: t for t in (_IN, _US)}


def certificate_for(jurisdiction: str) -> CertificateTemplate:
    return TEMPLATES.get(jurisdiction.strip().upper(), _GENERAL)


def certificate_text(
    jurisdiction: str,
    *,
    organisation: str,
    system: str,
    referral: str,
    files: int,
    manifest: str,
    period: str,
) -> tuple[str, str]:
    """(title, text) of the jurisdiction's certificate with the referral's facts filled in."""
    template = certificate_for(jurisdiction)
    text = template.body.substitute(
        organisation=organisation or "the platform",
        system=system,
        referral=referral,
        files=files,
        manifest=manifest or "(none attached)",
        period=period,
    )
    return template.title, text
