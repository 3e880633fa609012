"""Signals: what we compute from media to match it against hash banks. Pure: no database, no web.

- ``pdq``: PDQ image hashes (exact and fast modes), rotations and flips (``pdq_dihedral``);
- ``vpdq``: video as per-frame PDQ, and the reference's video-to-video match percentages;
- ``digests``: MD5 and SHA-256 of a file's bytes;
- ``bits``: hex, Hamming distance, one-against-many distances for brute-force matching;
- ``types``: the signal-type vocabulary (``SignalKind``, validation, naive comparisons), after
  python-threatexchange's ``SignalType``;
- ``file_signals``: from a file to all of the above;
- ``index``: the in-memory PDQ match index.

Import the module you need; this package imports nothing itself, so that validating a hash does not
load numba.
"""
