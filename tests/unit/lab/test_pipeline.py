"""The shared helpers: aggregate keys, exact sums, batch hashes and the seeded generator."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.lab.functions import pipeline
from labkit.lab.functions.pipeline import Kind, generate_round

from .canonical import event


def test_keys_are_risk_desk_region_with_their_roll_ups() -> None:
    """12 leaves RiskType:TradeDesk:Region, 4 RiskType:TradeDesk and 2 RiskType."""
    keys = pipeline.all_value_keys()
    assert len(keys) == 18 == len(set(keys))
    assert pipeline.leaf_key({"RiskType": "PV", "Region": "EMEA", "TradeDesk": "FXSpot"}) == (
        "PV:FXSpot:EMEA"
    )
    assert {"Delta:FXOptions", "PV"} <= set(keys)


def test_roll_up_adds_every_leaf_to_its_parents() -> None:
    """A leaf's value also counts for its RiskType:TradeDesk and its RiskType."""
    totals = pipeline.roll_up(
        {"PV:FXSpot:EMEA": Decimal("1.10"), "PV:FXSpot:AMER": Decimal("2.05")}
    )
    assert totals["PV:FXSpot"] == Decimal("3.15") == totals["PV"]


def test_pre_aggregate_moves_values_between_leaves() -> None:
    """A modified trade moves its value from the old leaf to the new one; a removed trade
    only takes its value away; only new or changed trades count as messages."""
    totals = pipeline.pre_aggregate(event("statetable_stream")["Records"])
    assert totals["message_count"] == 3
    assert totals["Delta:FXSpot:AMER"] == 0
    assert totals["PV:FXSpot:APAC"] == Decimal("100.25")
    assert totals["Delta:FXOptions:EMEA"] == Decimal("-7.05")


def test_reduce_sums_only_inserted_items() -> None:
    """sum_reduce_records adds the totals of INSERT records and ignores anything else."""
    records = event("reducetable_stream")["Records"]
    modified = json.loads(json.dumps(records[0]))
    modified["eventName"] = "MODIFY"
    totals = pipeline.sum_reduce_records([*records, modified])
    assert totals["Delta"] == Decimal("10.25")
    assert totals["message_count"] == 3


def test_batch_hash_is_stable_and_order_sensitive() -> None:
    """The same records give the same hash; other records or another order do not."""
    records = event("statetable_stream")["Records"]
    assert pipeline.batch_hash(records) == pipeline.batch_hash(json.loads(json.dumps(records)))
    assert pipeline.batch_hash(records) != pipeline.batch_hash(records[::-1])
    assert len(pipeline.batch_hash(records, "md5")) == 32


@given(st.integers(min_value=0, max_value=pipeline.MAX_CENTS))
def test_values_travel_exactly(cents: int) -> None:
    """Any value, written as a Kinesis message and parsed back, is exact to the cent."""
    trade = pipeline.Trade("t", 0, cents, "PV", "EMEA", "FXSpot", 1.5)
    parsed = pipeline.parse_trade(trade.to_json())
    assert parsed["Value"] == Decimal(cents) / 100
    assert f'"Value": {pipeline.format_cents(cents)},' in trade.to_json()


def test_same_seed_same_round() -> None:
    """A round is a function of its seed (and size): same messages, same expected totals."""
    one = generate_round("s/1", 500, special=True)
    two = generate_round("s/1", 500, special=True)
    other = generate_round("s/2", 500, special=True)
    assert one.records() == two.records()
    assert one.expected() == two.expected()
    assert one.records() != other.records()


def test_lab_1_round_is_all_new_trades() -> None:
    """Without special trades every message is a new v0 trade."""
    burst = generate_round(3, 1000)
    assert burst.stats() == {"new": 1000, "modified": 0, "stale": 0, "duplicate": 0}
    assert {m.trade.version for m in burst.messages} == {0}


def test_lab_2_round_has_five_duplicates_per_forty() -> None:
    """Each batch of 40 holds 35 generated messages and 5 duplicates of earlier ones."""
    burst = generate_round(4, 4000, special=True)
    stats = burst.stats()
    assert stats["duplicate"] == 500
    assert stats["new"] + stats["modified"] + stats["stale"] == 3500
    assert 0.015 < (stats["modified"] + stats["stale"]) / 3500 < 0.05
    for start in range(0, 4000, 40):
        batch = burst.messages[start : start + 40]
        seen: set[tuple[str, int, int]] = set()
        for message in batch:
            key = (message.trade.trade_id, message.trade.version, message.trade.cents)
            if message.kind is Kind.DUPLICATE:
                assert key in seen, "a duplicate comes after its original, in the same batch"
            seen.add(key)


def test_versions_of_a_trade_are_sent_in_generation_order() -> None:
    """Per trade, the first message is v0, the in-order modification v1 follows, and a stale
    message comes after the newer version it undercuts."""
    burst = generate_round(11, 10_000, special=True)
    by_trade: dict[str, list[tuple[int, Kind]]] = {}
    for message in burst.messages:
        by_trade.setdefault(message.trade.trade_id, []).append(
            (message.trade.version, message.kind)
        )
    stale_seen = 0
    for history in by_trade.values():
        assert history[0] == (0, Kind.NEW)
        for position, (version, kind) in enumerate(history):
            if kind is Kind.STALE:
                stale_seen += 1
                assert any(v > version for v, _ in history[:position])
    assert stale_seen == burst.stats()["stale"] > 0


def test_partition_key_is_the_trade_id() -> None:
    """All versions of a trade share a partition key, so Kinesis keeps them in order."""
    burst = generate_round(5, 200, special=True)
    for (key, data), message in zip(burst.records(), burst.messages, strict=True):
        assert key == message.trade.trade_id == json.loads(data)["TradeID"]


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=600))
def test_expected_totals_are_the_newest_versions(seed: int, count: int) -> None:
    """Expected totals are the sums of each trade's newest version; message_count counts the
    messages a correct pipeline writes (new trades and in-order modifications)."""
    burst = generate_round(seed, count, special=True)
    newest: dict[str, pipeline.Trade] = {}
    for message in burst.messages:
        current = newest.get(message.trade.trade_id)
        if current is None or message.trade.version > current.version:
            newest[message.trade.trade_id] = message.trade
    leaves: Counter[str] = Counter()
    for trade in newest.values():
        leaves[trade.leaf_key] += trade.cents
    expected = burst.expected()
    for key in pipeline.leaf_keys():
        assert expected[key] == Decimal(leaves[key]) / 100
    kinds = burst.stats()
    assert expected["message_count"] == kinds["new"] + kinds["modified"]
    assert len(burst.messages) == count
