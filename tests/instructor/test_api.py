"""The instructor server's HTTP API, against a real uvicorn server."""

from __future__ import annotations

import json

from labkit.instructor.testing import RunningRoom

from .conftest import check_event, events_csv, hint_event


def test_join_with_the_code_gives_a_token(room: RunningRoom) -> None:
    """The room code is exchanged for a participant number and a random token."""
    first = room.join("table-4-left")
    second = room.join("table-4-right")
    assert first["participant"] != second["participant"]
    assert len(first["token"]) >= 40 and first["token"] != second["token"]
    assert "lab1.step1" in first["steps"]


def test_join_code_is_case_and_space_tolerant(room: RunningRoom) -> None:
    """A code typed in lower case with spaces still joins."""
    status, answer = room.request("/api/join", {"code": f" {room.code.lower()} ", "name": "x"})
    assert status == 200, answer


def test_wrong_code_is_refused_and_adds_nobody(room: RunningRoom) -> None:
    """A wrong code gets 404 with a message, and nobody joins."""
    status, answer = room.request("/api/join", {"code": "AAAA-AAAA", "name": "x"})
    assert status == 404 and "code" in answer["error"]
    assert room.request("/api/health")[1]["participants"] == 0


def test_many_wrong_codes_from_one_address_are_slowed_down(room: RunningRoom) -> None:
    """Guessing codes is limited per address (429 after a burst of wrong codes)."""
    statuses = [room.request("/api/join", {"code": "AAAA-AAAA", "name": "x"})[0] for _ in range(25)]
    assert 429 in statuses


def test_tokens_are_stored_hashed(room: RunningRoom) -> None:
    """The server's database holds no participant token in clear."""
    token = room.join("someone")["token"]
    database = (room.data_dir / "instructor.sqlite3").read_bytes()
    wal = room.data_dir / "instructor.sqlite3-wal"
    raw = database + (wal.read_bytes() if wal.exists() else b"")
    assert token.encode() not in raw
    assert room.instructor_key.encode() not in raw


def test_sync_needs_a_valid_token(room: RunningRoom) -> None:
    """No token or an unknown token is a 401 that says how to join, and stores nothing."""
    status, answer = room.request("/api/sync", {"events": [check_event()]})
    assert status == 401 and "Bearer" in answer["error"]
    status, answer = room.request("/api/sync", {"events": [check_event()]}, token="made-up")
    assert status == 401 and "lab.join" in answer["error"]
    assert events_csv(room) == []


def test_a_token_writes_only_its_own_participants_events(room: RunningRoom) -> None:
    """Events are stored under the token's participant, whatever the body claims."""
    alice, bob = room.join("alice"), room.join("bob")
    event = check_event(participant=bob["participant"], name="bob")
    status, _ = room.request("/api/sync", {"events": [event]}, token=alice["token"])
    assert status == 200
    rows = events_csv(room)
    assert [(r[1], r[2]) for r in rows] == [(str(alice["participant"]), "alice")]


def test_events_are_stored_once(room: RunningRoom) -> None:
    """A batch sent again (a lost reply) is counted as duplicates; nothing is doubled."""
    token = room.join("retrying")["token"]
    batch = [check_event(), hint_event(tier=1), hint_event(tier=2)]
    first = room.request("/api/sync", {"events": batch}, token=token)[1]
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    again = room.request("/api/sync", {"events": [*batch, check_event()]}, token=token)[1]
    assert (again["accepted"], again["duplicates"]) == (1, 3)
    assert len(events_csv(room)) == 4


def test_two_participants_may_use_the_same_event_id(room: RunningRoom) -> None:
    """Deduplication is per participant: the same id from two learners is two events."""
    event = check_event()
    for name in ("one", "two"):
        token = room.join(name)["token"]
        assert room.request("/api/sync", {"events": [event]}, token=token)[1]["accepted"] == 1
    assert len(events_csv(room)) == 2


def test_malformed_requests_get_a_clear_4xx_and_change_nothing(room: RunningRoom) -> None:
    """Each kind of bad input is refused with a message; the store is unchanged after all."""
    token = room.join("fuzzy")["token"]
    good = check_event()
    cases = [
        (b"not json", 400, "JSON"),
        (json.dumps([1, 2]).encode(), 400, "object"),
        (json.dumps({"events": "x"}).encode(), 400, "list"),
        (json.dumps({"events": [good, {**good, "id": "a b"}]}).encode(), 400, "'id'"),
        (json.dumps({"events": [{**good, "kind": "delete"}]}).encode(), 400, "kind"),
        (json.dumps({"events": [{**good, "step": "lab9.step9"}]}).encode(), 400, "not a step"),
        (json.dumps({"events": [{**good, "at": "noon"}]}).encode(), 400, "time"),
        (json.dumps({"events": [{**good, "data": {"passed": "yes", "items": []}}]}).encode(),
         400, "true or false"),
        (json.dumps({"events": [hint_event(tier=0)]}).encode(), 400, "tier"),
        (json.dumps({"events": [good, good]}).encode(), 400, "same id"),
        (json.dumps({"events": [check_event() for _ in range(201)]}).encode(), 413, "at most"),
        (b'{"events": [], "pad": "' + b"x" * 70_000 + b'"}', 413, "larger"),
        (json.dumps({"events": [{**good, "kind": "code", "data": {"label": "a", "text": "b"}}]})
         .encode(), 409, "not asked"),
    ]  # fmt: skip
    for raw, status, words in cases:
        got, answer = room.request("/api/sync", raw=raw, token=token)
        assert got == status, (raw[:80], answer)
        assert words in answer["error"], answer
    assert events_csv(room) == []
    grid = room.request(f"/export/grid.csv?key={room.instructor_key}")[1]
    assert "failing" not in grid


def test_bad_join_requests_are_refused(room: RunningRoom) -> None:
    """A join without a name, with a long name or with control characters gets a 400."""
    for body in ({"code": room.code}, {"code": room.code, "name": "x" * 41},
                 {"code": room.code, "name": "a\x00b"}, ["code"]):  # fmt: skip
        status, answer = room.request("/api/join", body)
        assert status == 400, (body, answer)
    assert room.request("/api/health")[1]["participants"] == 0


def test_requests_per_participant_are_rate_limited(room: RunningRoom) -> None:
    """A participant hammering the server gets 429 with Retry-After; others are unaffected."""
    noisy, quiet = room.join("noisy")["token"], room.join("quiet")["token"]
    statuses = [room.request("/api/sync", {"events": []}, token=noisy)[0] for _ in range(80)]
    assert 429 in statuses
    assert room.request("/api/sync", {"events": []}, token=quiet)[0] == 200


def test_actions_need_the_instructors_secret(room: RunningRoom) -> None:
    """Broadcast, settings and revoke: 401 without a key, 403 with a helper's key."""
    body = {"text": "hello", "step": ""}
    assert room.request("/api/admin/broadcast", body)[0] == 401
    assert room.request("/api/admin/broadcast", body, key=room.helper_key)[0] == 403
    assert room.request("/api/admin/broadcast", body, key="guess")[0] == 401
    assert room.admin("broadcast", body)[0] == 200


def test_pages_need_a_key(room: RunningRoom) -> None:
    """The page, its event stream and the exports need the instructor's or a helper's key."""
    for path in ("/room", "/room/events", "/export/grid.csv", "/export/events.csv"):
        assert room.request(path)[0] == 401
        assert room.request(f"{path}?key=wrong")[0] == 401
    assert room.request(f"/room?key={room.helper_key}")[0] == 200
    assert room.request(f"/export/grid.csv?key={room.helper_key}")[0] == 200


def test_revoked_tokens_are_refused(room: RunningRoom) -> None:
    """After the instructor revokes a participant, their token writes nothing more."""
    joined = room.join("leaving")
    token = joined["token"]
    assert room.request("/api/sync", {"events": [check_event()]}, token=token)[0] == 200
    assert room.admin("revoke", {"participant": joined["participant"]})[0] == 200
    status, answer = room.request("/api/sync", {"events": [check_event()]}, token=token)
    assert status == 401 and "revoked" in answer["error"]
    assert len(events_csv(room)) == 1


def test_broadcast_and_marker_come_back_with_every_reply(room: RunningRoom) -> None:
    """A message and a step marker reach learners in the reply to their next sync."""
    token = room.join("listener")["token"]
    assert room.admin("broadcast", {"text": "Break until 11:00", "step": "lab1.step3"})[0] == 200
    news = room.request("/api/sync", {"events": []}, token=token)[1]
    assert news["message"]["text"] == "Break until 11:00"
    assert news["message"]["step"] == "lab1.step3"
    assert room.admin("broadcast", {"text": "", "step": "lab9.step1"})[0] == 400


def test_leaderboard_visibility(room: RunningRoom) -> None:
    """Learners see no board (instructor only), names (everyone) or nicknames."""
    token = room.join("scorer")["token"]
    played = {"id": "r1", "kind": "round", "step": "", "at": 1.0,
              "data": {"number": 1, "points": 100, "total": 100, "exact": True}}  # fmt: skip
    room.request("/api/sync", {"events": [played]}, token=token)
    assert room.request("/api/sync", {}, token=token)[1]["leaderboard"] is None
    room.admin("settings", {"leaderboard": "everyone"})
    board = room.request("/api/sync", {}, token=token)[1]["leaderboard"]
    assert board[0] == {"name": "scorer", "points": 100, "you": True}
    room.admin("settings", {"leaderboard": "nicknames"})
    board = room.request("/api/sync", {}, token=token)[1]["leaderboard"]
    assert board[0]["name"] != "scorer" and board[0]["points"] == 100
    assert room.admin("settings", {"leaderboard": "the moon"})[0] == 400
    assert room.admin("settings", {"stuck_minutes": -1})[0] == 400
    assert room.admin("settings", {"nonsense": 1})[0] == 400


def test_code_travels_only_when_asked(room: RunningRoom) -> None:
    """Shared code is refused until the instructor asks; then it shows to the instructor only."""
    joined = room.join("sharer")
    code = {"id": "c1", "kind": "code", "step": "", "at": 1.0,
            "data": {"label": "ReduceLambda", "text": "def handler(e, c): <b>"}}  # fmt: skip
    assert room.request("/api/sync", {"events": [code]}, token=joined["token"])[0] == 409
    room.admin("settings", {"code_request": "Share your ReduceLambda, please"})
    assert room.request("/api/sync", {"events": [code]}, token=joined["token"])[0] == 200
    path = f"/room/code/{joined['participant']}"
    assert room.request(f"{path}?key={room.helper_key}")[0] == 403
    status, text = room.request(f"{path}?key={room.instructor_key}")
    assert status == 200 and "def handler(e, c): <b>" in text


def test_everything_survives_a_restart(room: RunningRoom) -> None:
    """After a restart: the same code and keys, tokens work, events and dedup are kept."""
    code, key = room.code, room.instructor_key
    joined = room.join("persistent")
    batch = [check_event(), hint_event(tier=2)]
    room.request("/api/sync", {"events": batch}, token=joined["token"])
    room.admin("broadcast", {"text": "still here", "step": "lab1.step2"})
    room.admin("settings", {"stuck_minutes": 3})
    room.restart()
    assert (room.code, room.instructor_key) == (code, key)
    again = room.request("/api/sync", {"events": batch}, token=joined["token"])[1]
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert again["message"]["text"] == "still here"
    assert len(events_csv(room)) == 2
    grid = room.request(f"/export/grid.csv?key={key}")[1]
    assert "failing: StateTable exists (hint 2)" in grid
    page = room.request(f"/room?key={key}")[1]
    assert 'value="3"' in page


def test_tokens_end_with_the_session(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A session past its end refuses old tokens; serving again opens a new room."""
    from labkit.instructor.store import SqliteStore
    from labkit.instructor.testing import room_server

    with room_server(tmp_path / "room") as room:
        token = room.join("late")["token"]
        old_code = room.code
        room.stop()
        store = SqliteStore(room.data_dir)
        record = store.session()
        assert record is not None
        store.create_session(record.__class__(**{**record.__dict__, "expires": 1.0}))
        store.close()
        room.start()
        assert room.request("/api/sync", {"events": []}, token=token)[0] == 401
        assert room.code != old_code
