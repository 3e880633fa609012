"""Network investigations: the account graph (accounts linked by shared media, identifiers, addresses
and devices), its clusters and the suspected rackets among them (docs/network.md)."""
