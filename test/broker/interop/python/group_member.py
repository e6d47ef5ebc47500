"""One consumer group member for the group interop tests; prints one JSON object per line.

Run with /usr/bin/python3 (Debian's python3-confluent-kafka and python3-kafka):

  group_member.py confluent|kafka-python OPTIONS_JSON

OPTIONS_JSON: {"bootstrap", "topic", "group", "clientId", "sessionTimeoutMs", "heartbeatIntervalMs",
"rebalanceTimeoutMs", "instanceId" (optional: static membership), "assignor" (optional, confluent
only: partition.assignment.strategy, e.g. cooperative-sticky), "maxRecords" (optional: stop after
exactly that many records, leaving the rest of a polled batch uncommitted)}.

The member subscribes to the topic (auto.offset.reset earliest, auto commit off), and after each
polled batch commits, synchronously, the offset after the last record of each partition. Lines:

  {"event": "assigned", "partitions": [...]}          its whole assignment after a rebalance
  {"event": "revoked", "partitions": [...]}           (eager protocols; cooperative: "assigned")
  {"event": "record", "partition": P, "offset": O, "value": V}
  {"event": "commit", "offsets": {"P": O}}            about to commit (O: the next offset to read)
  {"event": "committed", "offsets": {"P": O}}         the commit was acknowledged
  {"event": "commit-failed", "offsets": {...}, "error": E}
  {"event": "error", "error": E}
  {"event": "nocommit"}                               from now on it commits nothing
  {"event": "slow"}                                   from now on it takes 10 ms per record
  {"event": "closed"}                                 after a graceful stop (close() returned)

It stops gracefully (leaving the group as the client does on close) on a "stop" line or the end
of stdin, or after maxRecords records; a SIGKILL is how the tests make it crash. After a
"nocommit" line it reads on without committing: records a crash must leave to the next owner.
After a "slow" line it sleeps 10 ms after each record.
"""

import json
import sys
import threading
import time

RUN_SECONDS_MAX = 300
SLOW_RECORD_SECONDS = 0.01


def out(obj):
    print(json.dumps(obj), flush=True)


class Control:
    """Commands from stdin: "stop" (or its end) sets `stop`, "nocommit" `no_commit`, "slow" `slow`."""

    def __init__(self):
        self.stop = threading.Event()
        self.no_commit = threading.Event()
        self.slow = threading.Event()
        threading.Thread(target=self.watch, daemon=True).start()

    def watch(self):
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "stop":
                break
            if cmd == "nocommit":
                self.no_commit.set()
            elif cmd == "slow":
                self.slow.set()
            else:
                continue
            out({"event": cmd})
        self.stop.set()

    def pace(self):
        """After each record once slowed: a broker restart then lands in the middle of consumption."""
        if self.slow.is_set():
            time.sleep(SLOW_RECORD_SECONDS)


class Counter:
    def __init__(self, limit):
        self.limit = limit
        self.n = 0

    def add(self, k):
        self.n += k

    @property
    def done(self):
        return self.limit is not None and self.n >= self.limit


def offsets_json(next_offsets):
    return {str(p): o for p, o in sorted(next_offsets.items())}


def run_confluent(o, ctl):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    conf = {
        "bootstrap.servers": o["bootstrap"],
        "group.id": o["group"],
        "client.id": o["clientId"],
        "session.timeout.ms": o["sessionTimeoutMs"],
        "heartbeat.interval.ms": o["heartbeatIntervalMs"],
        # librdkafka's rebalance timeout in JoinGroup.
        "max.poll.interval.ms": o["rebalanceTimeoutMs"],
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "topic.metadata.refresh.interval.ms": 5000,
        "reconnect.backoff.max.ms": 500,
    }
    if o.get("instanceId"):
        conf["group.instance.id"] = o["instanceId"]
    cooperative = o.get("assignor") == "cooperative-sticky"
    if o.get("assignor"):
        conf["partition.assignment.strategy"] = o["assignor"]

    def on_error(e):
        out({"event": "error", "error": e.name(), "message": e.str()})

    conf["error_cb"] = on_error
    c = Consumer(conf)

    # Eager: the callbacks get the whole assignment. Cooperative: the partitions added or taken
    # away, so the member applies them itself and prints what it then owns.
    owned = set()

    def on_assign(_, partitions):
        if cooperative:
            c.incremental_assign(partitions)
            owned.update(tp.partition for tp in partitions)
            out({"event": "assigned", "partitions": sorted(owned)})
        else:
            out({"event": "assigned", "partitions": sorted(tp.partition for tp in partitions)})

    def on_revoke(_, partitions):
        if cooperative:
            try:
                c.incremental_unassign(partitions)
            except KafkaException:
                pass  # closing: the handle is going away
            owned.difference_update(tp.partition for tp in partitions)
            out({"event": "assigned", "partitions": sorted(owned)})
        else:
            out({"event": "revoked", "partitions": sorted(tp.partition for tp in partitions)})

    c.subscribe([o["topic"]], on_assign=on_assign, on_revoke=on_revoke)
    counter = Counter(o.get("maxRecords"))
    deadline = time.time() + RUN_SECONDS_MAX
    while not ctl.stop.is_set() and not counter.done and time.time() < deadline:
        msgs = c.consume(num_messages=100, timeout=0.2)
        nexts = {}
        for m in msgs:
            if m.error() is not None:
                out({"event": "error", "error": m.error().name(), "message": m.error().str()})
                continue
            if counter.done:
                break  # the rest is left uncommitted, for the next member
            out(
                {
                    "event": "record",
                    "partition": m.partition(),
                    "offset": m.offset(),
                    "value": (m.value() or b"").decode(),
                }
            )
            nexts[m.partition()] = m.offset() + 1
            counter.add(1)
            ctl.pace()
        if not nexts or ctl.no_commit.is_set():
            continue
        out({"event": "commit", "offsets": offsets_json(nexts)})
        try:
            res = c.commit(
                offsets=[TopicPartition(o["topic"], p, off) for p, off in nexts.items()], asynchronous=False
            )
            failed = [tp for tp in res if tp.error is not None]
            if failed:
                out({"event": "commit-failed", "offsets": offsets_json(nexts), "error": failed[0].error.name()})
            else:
                out({"event": "committed", "offsets": offsets_json(nexts)})
        except KafkaException as e:
            err = e.args[0] if e.args else None
            name = err.name() if hasattr(err, "name") else str(e)
            out({"event": "commit-failed", "offsets": offsets_json(nexts), "error": name})
    c.close()
    out({"event": "closed"})


def run_kafka_python(o, ctl):
    from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    if o.get("instanceId"):
        raise SystemExit("kafka-python 2.0.2 has no static membership (group_instance_id)")

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            out({"event": "revoked", "partitions": sorted(tp.partition for tp in revoked)})

        def on_partitions_assigned(self, assigned):
            out({"event": "assigned", "partitions": sorted(tp.partition for tp in assigned)})

    c = KafkaConsumer(
        bootstrap_servers=o["bootstrap"],
        group_id=o["group"],
        client_id=o["clientId"],
        session_timeout_ms=o["sessionTimeoutMs"],
        heartbeat_interval_ms=o["heartbeatIntervalMs"],
        # kafka-python's rebalance timeout in JoinGroup.
        max_poll_interval_ms=o["rebalanceTimeoutMs"],
        request_timeout_ms=o["rebalanceTimeoutMs"] + 5000,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        reconnect_backoff_max_ms=500,
        retry_backoff_ms=100,
    )
    c.subscribe([o["topic"]], listener=Listener())
    counter = Counter(o.get("maxRecords"))
    deadline = time.time() + RUN_SECONDS_MAX
    while not ctl.stop.is_set() and not counter.done and time.time() < deadline:
        try:
            batch = c.poll(timeout_ms=200, max_records=100)
        except KafkaError as e:
            out({"event": "error", "error": type(e).__name__, "message": str(e)})
            time.sleep(0.1)
            continue
        nexts = {}
        for tp, records in sorted(batch.items(), key=lambda kv: kv[0].partition):
            for m in records:
                if counter.done:
                    break  # the rest is left uncommitted, for the next member
                out({"event": "record", "partition": m.partition, "offset": m.offset, "value": (m.value or b"").decode()})
                nexts[m.partition] = m.offset + 1
                counter.add(1)
                ctl.pace()
        if not nexts or ctl.no_commit.is_set():
            continue
        out({"event": "commit", "offsets": offsets_json(nexts)})
        try:
            c.commit({TopicPartition(o["topic"], p): OffsetAndMetadata(off, "") for p, off in nexts.items()})
            out({"event": "committed", "offsets": offsets_json(nexts)})
        except KafkaError as e:
            out({"event": "commit-failed", "offsets": offsets_json(nexts), "error": type(e).__name__})
    c.close()
    out({"event": "closed"})


def main(argv):
    client, options = argv[0], json.loads(argv[1])
    ctl = Control()
    if client == "confluent":
        run_confluent(options, ctl)
    elif client == "kafka-python":
        run_kafka_python(options, ctl)
    else:
        raise SystemExit("unknown client " + client)


if __name__ == "__main__":
    main(sys.argv[1:])
