import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryQuorumStateStore } from '../../src/raft/memory-quorum-state.js';

void test('MemoryQuorumStateStore: null when new, then the last state written, copied both ways', () => {
  const store = new MemoryQuorumStateStore();
  assert.equal(store.read(), null);
  const state = { epoch: 3, votedId: 2, leaderId: -1 };
  store.write(state);
  state.epoch = 9;
  assert.deepEqual(
    store.read(),
    { epoch: 3, votedId: 2, leaderId: -1 },
    'a later change to the object is not stored',
  );
  const read = store.read();
  assert.ok(read !== null, 'a state was written');
  (read as { epoch: number }).epoch = 7;
  assert.equal(store.read()?.epoch, 3, 'a change to what read returned is not stored');
  assert.equal(store.writes, 1);
  assert.deepEqual(new MemoryQuorumStateStore({ epoch: 1, votedId: -1, leaderId: 0 }).read(), {
    epoch: 1,
    votedId: -1,
    leaderId: 0,
  });
});
