"""An idempotent librdkafka producer (confluent-kafka-python) for the idempotence interop test.

Run with /usr/bin/python3. Usage:

  idempotent_producer.py BOOTSTRAP TOPIC COUNT

Sends COUNT records, value "v-<i>", key "k-<i % 37>", with enable.idempotence=true and the Java
client's partitioner (murmur2_random), in small batches so that there are many Produce requests.
Prints one JSON object per line: {"event": "delivered", "value", "partition", "offset"} or
{"event": "failed", "value", "error"} for each record, {"event": "error", ...} for each error
callback, and finally {"event": "end", "delivered", "failed", "pending"}.
"""

import json
import sys
import time

from confluent_kafka import Producer

DEADLINE_S = 50


def out(obj):
    print(json.dumps(obj), flush=True)


def main():
    bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 2,
            "batch.num.messages": 50,
            "retry.backoff.ms": 20,
            "reconnect.backoff.ms": 10,
            "reconnect.backoff.max.ms": 100,
            "message.timeout.ms": 45000,
            "error_cb": lambda e: out({"event": "error", "error": e.name(), "message": e.str(), "fatal": e.fatal()}),
        }
    )
    counts = {"delivered": 0, "failed": 0}

    def report(err, msg):
        value = msg.value().decode("utf-8")
        if err is None:
            counts["delivered"] += 1
            out({"event": "delivered", "value": value, "partition": msg.partition(), "offset": msg.offset()})
        else:
            counts["failed"] += 1
            out({"event": "failed", "value": value, "error": err.name(), "message": err.str()})

    deadline = time.monotonic() + DEADLINE_S
    for i in range(count):
        while time.monotonic() < deadline:
            try:
                producer.produce(topic, key=f"k-{i % 37}", value=f"v-{i}", on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 50 == 49:
            # Give the batches time to go out one by one: many requests, many chances to drop one.
            producer.poll(0.01)
    pending = producer.flush(max(0.0, deadline - time.monotonic()))
    out({"event": "end", "delivered": counts["delivered"], "failed": counts["failed"], "pending": pending})


if __name__ == "__main__":
    main()
