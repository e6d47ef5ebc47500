/**
 * `samsa configs` end to end: set, describe (dynamic and --all), delete and refuse to delete what
 * is not set, for a topic and a broker, in Kafka's output format and as JSON.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { cliBroker, expectCode } from './support.js';

void describe('samsa configs', () => {
  const { samsa } = cliBroker();

  void test('configs: describe, alter and delete-config round trip', async () => {
    expectCode(await samsa(['topics', '--create', '--topic', 'settings']), 0, 'create');
    const base = ['configs', '--entity-type', 'topics', '--entity-name', 'settings'];
    const none = expectCode(await samsa([...base, '--describe']), 0, 'describe');
    assert.equal(none.stdout, 'Dynamic configs for topic settings are:\n', 'nothing set yet');

    const altered = expectCode(
      await samsa([...base, '--alter', '--add-config', 'retention.ms=60000,cleanup.policy=[compact,delete]']),
      0,
      'alter',
    );
    assert.equal(altered.stdout, 'Completed updating config for topic settings.\n');
    const set = expectCode(await samsa([...base, '--describe']), 0, 'describe after alter');
    assert.equal(
      set.stdout,
      'Dynamic configs for topic settings are:\n' +
        '  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete}\n' +
        '  retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000}\n',
    );

    const notSet = expectCode(
      await samsa([...base, '--alter', '--delete-config', 'segment.ms']),
      1,
      'delete unset',
    );
    assert.match(notSet.stderr, /Invalid config\(s\): segment\.ms/, 'the unset config is named');
    const bad = expectCode(
      await samsa([...base, '--alter', '--add-config', 'retention.ms=soon']),
      1,
      'bad value',
    );
    assert.match(bad.stderr, /INVALID_CONFIG|retention\.ms/, "the broker's refusal is reported");

    expectCode(
      await samsa(['configs', '--topic', 'settings', '--alter', '--delete-config', 'cleanup.policy']),
      0,
      'delete',
    );
    const json = expectCode(await samsa([...base, '--describe', '--output', 'json']), 0, 'describe json');
    const [doc] = JSON.parse(json.stdout) as {
      entityName: string;
      configs: { name: string; value: string; source: string }[];
    }[];
    assert.equal(doc?.entityName, 'settings');
    assert.deepEqual(
      doc.configs.map((c) => [c.name, c.value, c.source]),
      [['retention.ms', '60000', 'DYNAMIC_TOPIC_CONFIG']],
    );

    const [all, broker, unknown, badEntity] = await Promise.all([
      samsa([...base, '--describe', '--all']),
      samsa(['configs', '--entity-type', 'brokers', '--entity-name', '1', '--describe', '--all']),
      samsa(['configs', '--topic', 'nope', '--describe']),
      samsa(['configs', '--entity-type', 'users', '--entity-name', 'x', '--describe']),
    ]);
    assert.match(
      expectCode(all, 0, '--all').stdout,
      /^All configs for topic settings are:\n/,
      '--all heading',
    );
    assert.match(
      all.stdout,
      /\n {2}segment\.bytes=\d+ sensitive=false synonyms=\{DEFAULT_CONFIG:/,
      'defaults shown',
    );
    assert.match(
      expectCode(broker, 0, 'broker').stdout,
      /^All configs for broker 1 are:\n/,
      'broker heading',
    );
    assert.match(broker.stdout, /\n {2}num\.partitions=1 /, "the broker's own settings");
    expectCode(unknown, 1, 'unknown topic');
    assert.match(unknown.stderr, /UNKNOWN_TOPIC_OR_PARTITION/, 'the error is named');
    expectCode(badEntity, 2, 'unsupported entity type');
    assert.match(badEntity.stderr, /--entity-type must be topics or brokers/);
  });
});
