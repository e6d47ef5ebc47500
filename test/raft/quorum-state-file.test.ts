/** The quorum-state file: Kafka's JSON, round trips, atomic replacement, and refusal of damaged files. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  formatQuorumState,
  parseQuorumState,
  QUORUM_STATE_FILE_NAME,
  QuorumStateFile,
  QuorumStateFileError,
} from '../../src/raft/quorum-state-file.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-quorum-state-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(root, `node-${dirs++}`);

void describe('QuorumStateFile', () => {
  void test('a new node has no state', () => {
    const store = new QuorumStateFile({ dir: freshDir(), voters: [1, 2, 3] });
    assert.equal(store.read(), null);
  });

  void test('writes Kafka QuorumStateData v0 JSON and reads it back', () => {
    const dir = freshDir();
    const store = new QuorumStateFile({ dir, voters: [1, 2, 3] });
    store.write({ epoch: 5, votedId: 2, leaderId: -1 });
    const text = fs.readFileSync(path.join(dir, QUORUM_STATE_FILE_NAME), 'utf8');
    assert.equal(
      text,
      '{"clusterId":"","leaderId":-1,"leaderEpoch":5,"votedId":2,"appliedOffset":0,' +
        '"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}',
    );
    assert.deepEqual(store.read(), { epoch: 5, votedId: 2, leaderId: -1 });
    store.write({ epoch: 6, votedId: -1, leaderId: 3 });
    // A second store on the same folder (a restarted process) sees the last write.
    assert.deepEqual(new QuorumStateFile({ dir, voters: [1, 2, 3] }).read(), {
      epoch: 6,
      votedId: -1,
      leaderId: 3,
    });
    assert.deepEqual(fs.readdirSync(dir), [QUORUM_STATE_FILE_NAME], 'no temporary file is left');
  });

  void test("reads Kafka's own file, and the -1 epoch of a state before any election as 0", () => {
    const kafka =
      '{"clusterId":"","leaderId":1,"leaderEpoch":12,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}';
    assert.deepEqual(parseQuorumState(kafka), { epoch: 12, votedId: -1, leaderId: 1 });
    assert.deepEqual(
      parseQuorumState(
        '{"leaderId":-1,"leaderEpoch":-1,"votedId":-1,"appliedOffset":0,"currentVoters":null,"data_version":0}',
      ),
      { epoch: 0, votedId: -1, leaderId: -1 },
    );
  });

  void test('a damaged or unknown file is an error, never a guessed vote', () => {
    const bad = [
      '',
      '{"leaderId":1',
      '[]',
      '{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":1}',
      '{"leaderId":1,"leaderEpoch":2,"data_version":0}',
      '{"leaderId":"1","leaderEpoch":2,"votedId":-1,"data_version":0}',
      '{"leaderId":1,"leaderEpoch":2.5,"votedId":-1,"data_version":0}',
      '{"leaderId":-2,"leaderEpoch":2,"votedId":-1,"data_version":0}',
    ];
    for (const text of bad)
      assert.throws(() => parseQuorumState(text), QuorumStateFileError, `refused: ${text}`);
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, QUORUM_STATE_FILE_NAME), '{"leader');
    assert.throws(() => new QuorumStateFile({ dir, voters: [1] }).read(), QuorumStateFileError);
  });

  void test('a temporary file left by a crash before the rename does not count', () => {
    const dir = freshDir();
    const store = new QuorumStateFile({ dir, voters: [1, 2, 3] });
    store.write({ epoch: 3, votedId: 1, leaderId: -1 });
    fs.writeFileSync(path.join(dir, QUORUM_STATE_FILE_NAME + '.tmp'), '{"partial');
    assert.deepEqual(store.read(), { epoch: 3, votedId: 1, leaderId: -1 });
    store.write({ epoch: 4, votedId: -1, leaderId: -1 });
    assert.deepEqual(store.read(), { epoch: 4, votedId: -1, leaderId: -1 });
  });

  void test('refuses to write a value that is not an int32 ≥ -1', () => {
    assert.throws(() => formatQuorumState({ epoch: -2, votedId: -1, leaderId: -1 }, [1]), RangeError);
    assert.throws(() => formatQuorumState({ epoch: 1.5, votedId: -1, leaderId: -1 }, [1]), RangeError);
    assert.throws(() => formatQuorumState({ epoch: 2 ** 31, votedId: -1, leaderId: -1 }, [1]), RangeError);
  });
});
