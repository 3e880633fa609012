"""The legal desk: requests from authorities (data disclosure, preservation, emergency disclosure,
blocking orders, removal notices, commission notices, court orders) and users' grievances, each on the
clock its jurisdiction sets (``jurisdictions/*.toml``, configuration with a source for every value)."""
