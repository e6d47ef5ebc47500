// One consumer-group member on librdkafka (group.protocol=consumer), in its own process so a
// blocking native call never stalls the broker under test. Usage:
//   node member.mjs <bootstrap> <group> <topic> <name>
// Prints JSON lines: {"event":"ready"}, {"event":"assigned","partitions":[..]} whenever the
// assignment changes, {"event":"record","partition":p,"offset":o,"value":"..."} per record,
// {"event":"committed"} after a "commit" line on stdin; "stop" on stdin closes and exits.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const { KafkaConsumer } = require('@confluentinc/kafka-javascript');
const [bootstrap, group, topic, name] = process.argv.slice(2);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const consumer = new KafkaConsumer(
  {
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'group.protocol': 'consumer',
    'client.id': name,
    'enable.auto.commit': false,
    ...(process.env.RDKAFKA_DEBUG ? { debug: process.env.RDKAFKA_DEBUG } : {}),
  },
  { 'auto.offset.reset': 'earliest' },
);
let ready = false;
let last = '';
consumer.on('event.error', (e) => print({ event: 'error', message: String(e) }));
if (process.env.RDKAFKA_DEBUG) consumer.on('event.log', (l) => process.stderr.write(l.message + '\n'));
consumer.on('data', (m) =>
  print({ event: 'record', partition: m.partition, offset: m.offset, value: m.value?.toString() ?? '' }),
);
consumer.on('ready', () => {
  ready = true;
  print({ event: 'ready' });
  consumer.subscribe([topic]);
  consumer.consume();
});
consumer.connect();

const poll = setInterval(() => {
  if (!ready) return;
  const partitions = consumer
    .assignments()
    .filter((a) => a.topic === topic)
    .map((a) => a.partition)
    .sort((a, b) => a - b);
  const key = partitions.join(',');
  if (key !== last) {
    last = key;
    print({ event: 'assigned', partitions });
  }
}, 100);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'commit') {
    consumer.commitSync(null);
    print({ event: 'committed' });
  } else if (line === 'stop') {
    clearInterval(poll);
    consumer.disconnect(() => process.exit(0));
  }
});
