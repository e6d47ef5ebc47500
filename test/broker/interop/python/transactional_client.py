"""Transactions with confluent-kafka-python (librdkafka) for the transactions interop test.

Run with /usr/bin/python3. Prints one JSON object per line. Commands:

  transact BOOTSTRAP TOPIC TXID GROUP PLAN
      init_transactions, then one transaction per PLAN step ("commit:10,abort:5,commit:7"): begin,
      produce N records (value "<TXID>-<step>-<i>", key "k-<i>", partition i % partitions),
      send_offsets_to_transaction for GROUP on TOPIC (partition p at offset 1000 * (step + 1) + p),
      then commit_transaction or abort_transaction. Prints {"step", "action", "ok", "produced"}
      per step (with "error" when a call failed) and {"event": "end"}.
  fence BOOTSTRAP TOPIC TXID
      a producer opens a transaction and produces; a second one with the same transactional id
      calls init_transactions (fencing the first); the first then tries to commit. Prints
      {"event": "zombie-commit", "ok", "error", "fatal"} and the second's
      {"event": "commit", "ok"} for a transaction of its own ("<TXID>-new-<i>").
  consume BOOTSTRAP TOPIC ISOLATION
      every partition from the beginning to its end (EOF) with isolation.level ISOLATION
      (read_committed or read_uncommitted), by assignment; {"partition", "offset", "key",
      "value"} per record, then {"event": "end", "complete"}.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

TIMEOUT = 30


def out(obj):
    print(json.dumps(obj), flush=True)


def error_of(e):
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return {"error": e.name(), "code": e.code(), "message": e.str(), "fatal": e.fatal(), "abortable": e.txn_requires_abort()}
    return {"error": type(e).__name__, "code": None, "message": str(e), "fatal": False, "abortable": False}


def producer(bootstrap, txid):
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": txid,
            "transaction.timeout.ms": 20000,
            "linger.ms": 2,
            "retry.backoff.ms": 20,
            "error_cb": lambda e: out({"event": "error-cb", "error": e.name(), "message": e.str(), "fatal": e.fatal()}),
        }
    )


def partitions_of(client, topic):
    md = client.list_topics(timeout=TIMEOUT)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        raise RuntimeError(f"no topic {topic}")
    return sorted(t.partitions)


def transact(bootstrap, topic, txid, group, plan):
    p = producer(bootstrap, txid)
    parts = partitions_of(p, topic)
    # Group metadata of a consumer that never joins: generation -1, no member (a standalone commit).
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    meta = c.consumer_group_metadata()
    p.init_transactions(TIMEOUT)
    for step, item in enumerate(plan.split(",")):
        action, n = item.split(":")
        n = int(n)
        result = {"step": step, "action": action, "ok": True, "produced": 0}
        try:
            p.begin_transaction()
            for i in range(n):
                p.produce(topic, key=f"k-{i}", value=f"{txid}-{step}-{i}", partition=parts[i % len(parts)])
                result["produced"] += 1
            p.flush(TIMEOUT)
            offsets = [TopicPartition(topic, q, 1000 * (step + 1) + q) for q in parts]
            p.send_offsets_to_transaction(offsets, meta, TIMEOUT)
            if action == "commit":
                p.commit_transaction(TIMEOUT)
            else:
                p.abort_transaction(TIMEOUT)
        except Exception as e:  # noqa: BLE001 - the test judges the error
            result["ok"] = False
            result.update(error_of(e))
        out(result)
    c.close()
    p.flush(TIMEOUT)
    out({"event": "end"})


def fence(bootstrap, topic, txid):
    zombie = producer(bootstrap, txid)
    parts = partitions_of(zombie, topic)
    zombie.init_transactions(TIMEOUT)
    zombie.begin_transaction()
    for i in range(5):
        zombie.produce(topic, key=f"k-{i}", value=f"{txid}-zombie-{i}", partition=parts[i % len(parts)])
    zombie.flush(TIMEOUT)
    fresh = producer(bootstrap, txid)
    fresh.init_transactions(TIMEOUT)
    try:
        zombie.commit_transaction(TIMEOUT)
        out({"event": "zombie-commit", "ok": True})
    except Exception as e:  # noqa: BLE001
        out({"event": "zombie-commit", "ok": False, **error_of(e)})
    result = {"event": "commit", "ok": True}
    try:
        fresh.begin_transaction()
        for i in range(5):
            fresh.produce(topic, key=f"k-{i}", value=f"{txid}-new-{i}", partition=parts[i % len(parts)])
        fresh.commit_transaction(TIMEOUT)
    except Exception as e:  # noqa: BLE001
        result["ok"] = False
        result.update(error_of(e))
    out(result)
    out({"event": "end"})


def consume(bootstrap, topic, isolation):
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "samsa-txn-interop-unused",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "isolation.level": isolation,
        }
    )
    parts = partitions_of(c, topic)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    at_end = set()
    deadline = time.time() + 60
    while len(at_end) < len(parts) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(m.partition())
                continue
            out({"event": "error", **error_of(m.error())})
            continue
        at_end.discard(m.partition())
        out(
            {
                "partition": m.partition(),
                "offset": m.offset(),
                "key": (m.key() or b"").decode(),
                "value": (m.value() or b"").decode(),
            }
        )
    out({"event": "end", "complete": len(at_end) == len(parts)})
    c.close()


def main():
    cmd = sys.argv[1]
    if cmd == "transact":
        transact(*sys.argv[2:7])
    elif cmd == "fence":
        fence(*sys.argv[2:5])
    elif cmd == "consume":
        consume(*sys.argv[2:5])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
