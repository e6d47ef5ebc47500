/**
 * Producer ids for InitProducerId: handed out one at a time from a block the controller
 * allocates durably (a ProducerIdsRecord in the metadata log), so an id is never reused, even
 * after a restart — the rest of a block in use when the broker stops is skipped, as in Kafka.
 */
import type { Controller } from '../metadata/controller.js';

export class ProducerIdManager {
  private readonly controller: Controller;
  private readonly brokerId: number;
  private next = 0n;
  private end = 0n;
  /** The block request in flight: concurrent callers share it. */
  private refill: Promise<void> | null = null;

  constructor(controller: Controller, brokerId: number) {
    this.controller = controller;
    this.brokerId = brokerId;
  }

  async nextId(): Promise<bigint> {
    while (this.next >= this.end) {
      this.refill ??= this.controller
        .allocateProducerIds(this.brokerId, this.controller.brokerEpoch(this.brokerId))
        .then(({ firstId, count }) => {
          this.next = firstId;
          this.end = firstId + BigInt(count);
        })
        .finally(() => {
          this.refill = null;
        });
      await this.refill;
    }
    return this.next++;
  }
}
