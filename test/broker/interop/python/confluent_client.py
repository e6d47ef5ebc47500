"""confluent-kafka-python (librdkafka) side of the interop tests; prints one JSON object per line.

Run with /usr/bin/python3 (Debian's python3-confluent-kafka). Commands:

  admin-suite BOOTSTRAP TOPIC                 create/describe/alter/create_partitions/delete through AdminClient
  create BOOTSTRAP TOPIC PARTITIONS [K=V ...] create a topic (AdminClient.create_topics)
  produce BOOTSTRAP TOPIC CODEC COUNT BASE_TS keyed messages with headers and timestamps BASE_TS + i
  consume BOOTSTRAP TOPIC                     every partition from the beginning to its end, no group
  offsets-for-times BOOTSTRAP TOPIC TS...     Consumer.offsets_for_times for every partition
  watermarks BOOTSTRAP TOPIC                  Consumer.get_watermark_offsets for every partition
  produce-one BOOTSTRAP TOPIC SIZE            one message of SIZE bytes; prints the delivery result

The consumer reads by assignment (assign() with explicit offsets, auto commit off): librdkafka needs
a group.id value but never contacts a group coordinator then.
"""

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TIMEOUT = 20


def out(obj):
    print(json.dumps(obj), flush=True)


def error_of(e):
    """Name and code of a KafkaError or KafkaException (or any other exception)."""
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return {"error": e.name(), "code": e.code(), "message": e.str()}
    return {"error": type(e).__name__, "code": None, "message": str(e)}


def result_of(future):
    try:
        value = future.result(timeout=TIMEOUT)
        return {"ok": True, "value": value}
    except Exception as e:  # noqa: BLE001 - the test judges the error
        return {"ok": False, **error_of(e)}


def admin_client(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def partitions_of(client, topic):
    # All topics: a Metadata request naming the topic would let librdkafka's producer-side
    # handles (AdminClient) auto-create it.
    md = client.list_topics(timeout=TIMEOUT)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return sorted(t.partitions)


def topic_configs(admin, topic, names):
    futures = admin.describe_configs([ConfigResource("topic", topic)], request_timeout=TIMEOUT)
    [(res, f)] = futures.items()
    cfg = f.result(timeout=TIMEOUT)
    return {n: {"value": cfg[n].value, "source": cfg[n].source, "default": cfg[n].is_default} for n in names if n in cfg}


def admin_suite(bootstrap, topic):
    a = admin_client(bootstrap)
    names = ["retention.ms", "max.message.bytes", "cleanup.policy", "segment.bytes"]

    [(t, f)] = a.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=1, config={"retention.ms": "86400000"})],
        request_timeout=TIMEOUT,
    ).items()
    out({"op": "create", **{k: v for k, v in result_of(f).items() if k != "value"}})

    [(t, f)] = a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)], request_timeout=TIMEOUT).items()
    out({"op": "create-again", **{k: v for k, v in result_of(f).items() if k != "value"}})

    [(t, f)] = a.create_topics(
        [NewTopic(topic + "-bad", num_partitions=1, replication_factor=1, config={"cleanup.policy": "nonsense"})],
        request_timeout=TIMEOUT,
    ).items()
    out({"op": "create-bad-config", **{k: v for k, v in result_of(f).items() if k != "value"}})

    [(t, f)] = a.create_topics(
        [NewTopic(topic + "-validate", num_partitions=2, replication_factor=1)],
        request_timeout=TIMEOUT,
        validate_only=True,
    ).items()
    r = {k: v for k, v in result_of(f).items() if k != "value"}
    out({"op": "create-validate-only", **r, "exists": partitions_of(a, topic + "-validate") is not None})

    out({"op": "partitions", "partitions": partitions_of(a, topic)})
    out({"op": "describe", "configs": topic_configs(a, topic, names)})

    # AlterConfigs (not incremental) replaces the topic's whole set of overrides.
    [(res, f)] = a.alter_configs(
        [ConfigResource("topic", topic, set_config={"max.message.bytes": "500000", "cleanup.policy": "compact"})],
        request_timeout=TIMEOUT,
    ).items()
    out({"op": "alter", **{k: v for k, v in result_of(f).items() if k != "value"}})
    out({"op": "describe-after-alter", "configs": topic_configs(a, topic, names)})

    [(res, f)] = a.alter_configs(
        [ConfigResource("topic", topic, set_config={"retention.ms": "not-a-number"})],
        request_timeout=TIMEOUT,
    ).items()
    out({"op": "alter-invalid", **{k: v for k, v in result_of(f).items() if k != "value"}})
    out({"op": "describe-after-invalid", "configs": topic_configs(a, topic, names)})

    [(res, f)] = a.describe_configs([ConfigResource("broker", "1")], request_timeout=TIMEOUT).items()
    r = result_of(f)
    if r["ok"]:
        cfg = r["value"]
        out(
            {
                "op": "describe-broker",
                "ok": True,
                "count": len(cfg),
                "configs": {
                    n: {"value": cfg[n].value, "source": cfg[n].source}
                    for n in ["num.partitions", "message.max.bytes", "log.dirs"]
                    if n in cfg
                },
            }
        )
    else:
        out({"op": "describe-broker", **r})

    [(t, f)] = a.create_partitions([NewPartitions(topic, 6)], request_timeout=TIMEOUT).items()
    out({"op": "create-partitions", **{k: v for k, v in result_of(f).items() if k != "value"}})
    out({"op": "partitions-after", "partitions": partitions_of(a, topic)})

    [(t, f)] = a.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT).items()
    out({"op": "create-partitions-fewer", **{k: v for k, v in result_of(f).items() if k != "value"}})

    [(t, f)] = a.delete_topics([topic], operation_timeout=TIMEOUT, request_timeout=TIMEOUT).items()
    out({"op": "delete", **{k: v for k, v in result_of(f).items() if k != "value"}})
    deadline = time.time() + TIMEOUT
    while partitions_of(a, topic) is not None and time.time() < deadline:
        time.sleep(0.1)
    out({"op": "partitions-after-delete", "partitions": partitions_of(a, topic)})

    [(t, f)] = a.delete_topics([topic], operation_timeout=TIMEOUT, request_timeout=TIMEOUT).items()
    out({"op": "delete-again", **{k: v for k, v in result_of(f).items() if k != "value"}})


def create(bootstrap, topic, partitions, kvs):
    a = admin_client(bootstrap)
    config = dict(kv.split("=", 1) for kv in kvs)
    [(t, f)] = a.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config)], request_timeout=TIMEOUT
    ).items()
    out({"op": "create", **{k: v for k, v in result_of(f).items() if k != "value"}})


def produce(bootstrap, topic, codec, count, base_ts):
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "compression.codec": codec,
            # librdkafka's default (consistent_random) is not Java's; murmur2_random is.
            "partitioner": "murmur2_random",
            "acks": "all",
            "linger.ms": 5,
            "enable.idempotence": False,
        }
    )
    delivered = []
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err.name())
        else:
            delivered.append([int(msg.value()[len(b"value-") :]), msg.partition(), msg.offset()])

    started = time.time()
    for i in range(count):
        while True:
            try:
                p.produce(
                    topic,
                    key=("key-%d" % (i % 37)).encode(),
                    value=("value-%d" % i).encode(),
                    headers=[("n", str(i).encode()), ("kind", b"py")],
                    timestamp=base_ts + i,
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(TIMEOUT)
    out(
        {
            "event": "produced",
            "ok": len(delivered),
            "errors": errors[:10],
            "undelivered": left,
            "seconds": round(time.time() - started, 3),
            "delivered": delivered,
        }
    )


def consumer(bootstrap):
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "samsa-interop-unused",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
        }
    )


def consume(bootstrap, topic):
    c = consumer(bootstrap)
    parts = partitions_of(c, topic)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    at_end = set()
    deadline = time.time() + 60
    while len(at_end) < len(parts) and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(m.partition())
                continue
            out({"event": "error", **error_of(m.error())})
            continue
        at_end.discard(m.partition())
        ts_type, ts = m.timestamp()
        out(
            {
                "partition": m.partition(),
                "offset": m.offset(),
                "key": (m.key() or b"").decode(),
                "value": (m.value() or b"").decode(),
                "headers": ",".join(k + "=" + v.decode() for k, v in (m.headers() or [])),
                "timestamp": ts,
                "timestampType": ts_type,
            }
        )
    out({"event": "end", "complete": len(at_end) == len(parts)})
    c.close()


def offsets_for_times(bootstrap, topic, timestamps):
    c = consumer(bootstrap)
    parts = partitions_of(c, topic)
    for ts in timestamps:
        res = c.offsets_for_times([TopicPartition(topic, p, ts) for p in parts], timeout=TIMEOUT)
        out(
            {
                "timestamp": ts,
                "offsets": {str(r.partition): r.offset for r in res},
                "errors": [str(r.error) for r in res if r.error is not None],
            }
        )
    c.close()


def watermarks(bootstrap, topic):
    c = consumer(bootstrap)
    parts = partitions_of(c, topic)
    marks = {}
    for p in parts:
        low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT, cached=False)
        marks[str(p)] = [low, high]
    out({"watermarks": marks})
    c.close()


def produce_one(bootstrap, topic, size):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False})
    result = {}

    def on_delivery(err, msg):
        result.update({"ok": True, "offset": msg.offset()} if err is None else {"ok": False, **error_of(err)})

    try:
        p.produce(topic, key=b"big", value=b"x" * size, on_delivery=on_delivery)
    except KafkaException as e:
        out({"ok": False, "local": True, **error_of(e)})
        return
    p.flush(TIMEOUT)
    out(result or {"ok": False, "error": "no delivery report"})


def main(argv):
    cmd, bootstrap, topic = argv[0], argv[1], argv[2]
    if cmd == "admin-suite":
        admin_suite(bootstrap, topic)
    elif cmd == "create":
        create(bootstrap, topic, int(argv[3]), argv[4:])
    elif cmd == "produce":
        produce(bootstrap, topic, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "consume":
        consume(bootstrap, topic)
    elif cmd == "offsets-for-times":
        offsets_for_times(bootstrap, topic, [int(x) for x in argv[3:]])
    elif cmd == "watermarks":
        watermarks(bootstrap, topic)
    elif cmd == "produce-one":
        produce_one(bootstrap, topic, int(argv[3]))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
