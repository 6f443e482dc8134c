"""Lab 5 (notebook 07): when stream processing fails.

A poison record on ErrorsSource's stream, and every setting Lambda has for it: retries,
on-failure destinations (and re-reading discarded records AT_SEQUENCE_NUMBER), record age,
bisecting, partial batch responses, tumbling windows and parallelization.

* :mod:`.names`, :mod:`.steps`, :mod:`.stack`, :mod:`.policies` — names, steps and resources;
* :mod:`.code` — ErrorsProcessor's versions (``functions/errors_processor``) and
  ErrorsQuarantiner (``functions/errors_quarantiner``);
* :mod:`.observe` — reading what happened: invocations, failure records, quarantine, windows;
* :mod:`.experiments` — what the notebook drives: probe items, record age, clean slates.
"""

from __future__ import annotations

from .experiments import Experiments, StillRetrying
from .names import Function, StreamErrorsNames
from .part import PART

__all__ = ["PART", "Experiments", "Function", "StillRetrying", "StreamErrorsNames"]
