"""What the host platform sends us (accounts, items, their media) and what the pipeline found in them
(hash matches, rule hits, identifiers): the rows every area above reads, at the bottom so none of them
imports intake's pipeline to name an item."""
