"""Instructor-led sessions: a room that learners join with a code, seen live by the instructor.

The server side (Starlette under uvicorn; knows nothing of the local cloud):

* :mod:`~labkit.instructor.store` — the :class:`Store` interface and its SQLite implementation;
* :mod:`~labkit.instructor.protocol` — what a request may contain, checked field by field;
* :mod:`~labkit.instructor.state` — the room derived from the events (pure data);
* :mod:`~labkit.instructor.service` — who may do what, limits, the single writer;
* :mod:`~labkit.instructor.page` and :mod:`~labkit.instructor.app` — the page and the routes;
* :mod:`~labkit.instructor.server` — ``labkit instructor serve``.

The learner's side (standard library only): :mod:`~labkit.instructor.outbox` and
:mod:`~labkit.instructor.learner` (``lab.join``, the background sender).
"""
