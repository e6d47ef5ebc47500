"""kafka-python side of the interop tests; prints one JSON object per line.

Run with /usr/bin/python3 (Debian's python3-kafka). Commands:

  codecs                                      which compression codecs the installed libraries support
  produce BOOTSTRAP TOPIC CODEC COUNT BASE_TS keyed messages with headers and timestamps BASE_TS + i
  consume BOOTSTRAP TOPIC                     every partition from the beginning to its end offset, no group
  offsets-for-times BOOTSTRAP TOPIC TS...     KafkaConsumer.offsets_for_times for every partition
  produce-one BOOTSTRAP TOPIC SIZE            one message of SIZE bytes; prints the result

The default partitioner of kafka-python is the Java client's (murmur2 of the key).
"""

import json
import sys
import time

TIMEOUT = 20


def out(obj):
    print(json.dumps(obj), flush=True)


def codecs():
    from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd

    out({"gzip": has_gzip(), "snappy": has_snappy(), "lz4": has_lz4(), "zstd": has_zstd()})


def produce(bootstrap, topic, codec, count, base_ts):
    from kafka import KafkaProducer

    p = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type=None if codec == "none" else codec,
        acks="all",
        linger_ms=5,
        retries=0,
    )
    started = time.time()
    futures = [
        p.send(
            topic,
            key=("key-%d" % (i % 37)).encode(),
            value=("value-%d" % i).encode(),
            headers=[("n", str(i).encode()), ("kind", b"py")],
            timestamp_ms=base_ts + i,
        )
        for i in range(count)
    ]
    p.flush(TIMEOUT)
    delivered = []
    errors = []
    for i, f in enumerate(futures):
        if f.succeeded():
            delivered.append([i, f.value.partition, f.value.offset])
        else:
            errors.append(type(f.exception).__name__ if f.is_done else "not done")
    p.close(TIMEOUT)
    out(
        {
            "event": "produced",
            "ok": len(delivered),
            "errors": errors[:10],
            "seconds": round(time.time() - started, 3),
            "delivered": delivered,
        }
    )


def assigned_consumer(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
    c.assign(parts)
    return c, parts


def consume(bootstrap, topic):
    c, parts = assigned_consumer(bootstrap, topic)
    c.seek_to_beginning(*parts)
    ends = c.end_offsets(parts)
    deadline = time.time() + 60
    while time.time() < deadline and any(c.position(tp) < ends[tp] for tp in parts):
        for tp, messages in c.poll(timeout_ms=1000).items():
            for m in messages:
                out(
                    {
                        "partition": m.partition,
                        "offset": m.offset,
                        "key": (m.key or b"").decode(),
                        "value": (m.value or b"").decode(),
                        "headers": ",".join(k + "=" + v.decode() for k, v in m.headers),
                        "timestamp": m.timestamp,
                        "timestampType": m.timestamp_type,
                    }
                )
    out({"event": "end", "complete": all(c.position(tp) >= ends[tp] for tp in parts)})
    c.close()


def offsets_for_times(bootstrap, topic, timestamps):
    c, parts = assigned_consumer(bootstrap, topic)
    for ts in timestamps:
        res = c.offsets_for_times({tp: ts for tp in parts})
        out(
            {
                "timestamp": ts,
                "offsets": {str(tp.partition): (-1 if r is None else r.offset) for tp, r in res.items()},
                "timestamps": {str(tp.partition): (None if r is None else r.timestamp) for tp, r in res.items()},
            }
        )
    c.close()


def produce_one(bootstrap, topic, size):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0)
    f = p.send(topic, key=b"big", value=b"x" * size)
    try:
        md = f.get(TIMEOUT)
        out({"ok": True, "offset": md.offset})
    except KafkaError as e:
        out({"ok": False, "error": type(e).__name__, "errno": getattr(e, "errno", None), "message": str(e)})
    p.close(TIMEOUT)


def main(argv):
    cmd = argv[0]
    if cmd == "codecs":
        codecs()
        return
    bootstrap, topic = argv[1], argv[2]
    if cmd == "produce":
        produce(bootstrap, topic, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "consume":
        consume(bootstrap, topic)
    elif cmd == "offsets-for-times":
        offsets_for_times(bootstrap, topic, [int(x) for x in argv[3:]])
    elif cmd == "produce-one":
        produce_one(bootstrap, topic, int(argv[3]))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
