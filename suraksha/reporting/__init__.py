"""Clearinghouse reporting: CyberTipline reports (XML built from decisions and recorded human views,
validated against NCMEC's schema, sent through the Reporting API by a resumable state machine) and
police referrals."""
