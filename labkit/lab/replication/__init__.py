"""Lab 3 (notebook 05): replicate the ``logfile`` table through its stream into
``logfile_replica``.

* :mod:`.logdata` — the seeded web-log files (500 rows, then the 2,000-row stream file);
* :mod:`.loader` — ``load_logfile``: one ``put_item`` per row, as the material's script;
* :mod:`.functions` — ``ddbreplica_lambda``: the starter (the material's two faults) and the
  solution;
* :mod:`.steps`, :mod:`.stack` — the steps ``lab3.step1`` … ``lab3.step5`` and their resources;
* :mod:`.observe` — stream marks (records since a point) and the replication-lag watch;
* :data:`PART` — the lab as a :class:`~labkit.lab.parts.LabPart`.
"""

from __future__ import annotations

from .names import ReplicationNames
from .part import PART, ReplicationPart

__all__ = ["PART", "ReplicationNames", "ReplicationPart"]
