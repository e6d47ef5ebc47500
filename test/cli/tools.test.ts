/**
 * What every `samsa` command shares: --help (exit 0), bad usage (exit 2, naming the flag and
 * pointing at --help), a missing --bootstrap-server, and an unreachable broker (exit 1, naming the
 * address). Each command runs as a child process; the topic and configs round trips are in
 * topics.test.ts and configs.test.ts, the others next to them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { cliBroker, expectCode, runCli } from './support.js';

const COMMANDS = [
  'topics',
  'console-producer',
  'console-consumer',
  'consumer-groups',
  'configs',
  'get-offsets',
  'delete-records',
];

void describe('samsa tools', () => {
  const { samsa } = cliBroker();

  void test('--help on every command and at top level exits 0 and shows the flags', async () => {
    const results = await Promise.all([runCli(['--help']), ...COMMANDS.map((c) => runCli([c, '--help']))]);
    const top = expectCode(results[0], 0, 'samsa --help');
    for (const c of ['server', ...COMMANDS])
      assert.ok(top.stdout.includes(`  ${c} `), `top-level help lists ${c}`);
    COMMANDS.forEach((c, i) => {
      const r = expectCode(results[i + 1]!, 0, `${c} --help`);
      assert.ok(r.stdout.startsWith(`usage: samsa ${c}`), `${c} --help starts with its usage`);
      assert.ok(r.stdout.includes('--bootstrap-server'), `${c} --help lists --bootstrap-server`);
    });
    const h = expectCode(await runCli(['topics', '-h', '--bogus']), 0, 'topics -h with a bad flag');
    assert.ok(h.stdout.includes('--create'), 'help wins over the bad flag');
  });

  void test('bad usage exits 2 and names what is wrong', async () => {
    const [bogus, typo, noBootstrap, noAction, twoActions, noValue, badOutput, badNumber, unknownCommand] =
      await Promise.all([
        samsa(['topics', '--list', '--bogus']),
        samsa(['topics', '--list', '--exclude-internals']),
        runCli(['topics', '--list']),
        samsa(['topics']),
        samsa(['topics', '--list', '--delete', '--topic', 'x']),
        samsa(['topics', '--create', '--topic']),
        samsa(['topics', '--list', '--output', 'yaml']),
        samsa(['topics', '--create', '--topic', 'x', '--partitions', 'three']),
        runCli(['produce']),
      ]);
    expectCode(bogus, 2, 'unknown flag');
    assert.match(bogus.stderr, /unknown option --bogus/, 'the unknown flag is named');
    assert.match(bogus.stderr, /samsa topics --help/, 'the message points at --help');
    assert.equal(bogus.stdout, '', 'nothing on stdout');
    expectCode(typo, 2, 'misspelled flag');
    assert.match(typo.stderr, /did you mean --exclude-internal\?/, 'a near miss is suggested');
    expectCode(noBootstrap, 2, 'no --bootstrap-server');
    assert.match(
      noBootstrap.stderr,
      /missing required option --bootstrap-server/,
      'the missing flag is named',
    );
    expectCode(noAction, 2, 'no action');
    assert.match(noAction.stderr, /exactly one action: --create, --list, --describe, --alter, --delete/);
    expectCode(twoActions, 2, 'two actions');
    assert.match(twoActions.stderr, /--list and --delete/, 'both actions are named');
    expectCode(noValue, 2, 'flag without its value');
    assert.match(noValue.stderr, /--topic needs a value/);
    expectCode(badOutput, 2, 'bad --output');
    assert.match(badOutput.stderr, /--output must be 'table' or 'json', got 'yaml'/);
    expectCode(badNumber, 2, 'non-numeric --partitions');
    assert.match(badNumber.stderr, /--partitions expects an integer, got 'three'/);
    expectCode(unknownCommand, 2, 'unknown command');
    assert.match(unknownCommand.stderr, /unknown command produce/);
  });

  void test('an unreachable broker fails with exit 1 naming the address', async () => {
    const results = await Promise.all([
      runCli(['topics', '--bootstrap-server', '127.0.0.1:1', '--list']),
      runCli(['get-offsets', '--bootstrap-server', '127.0.0.1:1', '--topic', 't']),
      runCli([
        'console-consumer',
        '--bootstrap-server',
        '127.0.0.1:1',
        '--topic',
        't',
        '--max-messages',
        '1',
      ]),
      runCli(['console-producer', '--bootstrap-server', '127.0.0.1:1', '--topic', 't'], { stdin: 'x\n' }),
    ]);
    for (const r of results) {
      expectCode(r, 1, 'unreachable broker');
      assert.match(r.stderr, /cannot reach 127\.0\.0\.1:1/, `the address is named: ${r.stderr}`);
    }
    const fromEnv = await runCli(['topics', '--list'], { env: { SAMSA_BOOTSTRAP_SERVER: '127.0.0.1:1' } });
    expectCode(fromEnv, 1, 'SAMSA_BOOTSTRAP_SERVER');
    assert.match(fromEnv.stderr, /cannot reach 127\.0\.0\.1:1/, 'the environment variable is used');
  });
});
