import type { UnitLayer, Trainer } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import type { BrokerOpenOptions, BrokerSource, RefusedMessage, SourcePosition } from './broker-source.js';

/**
 * Feeds a trainer from a broker source, exactly once with respect to its checkpoints: opens
 * the source at the trainer's saved position, hands out one batch of the trainer's batch size
 * per step (read only when the loop asks), moves the position of the rows just trained into
 * the trainer after each step (`stepDone`), and acknowledges a position once a checkpoint
 * holding it is durable (`checkpointed`). The training run owns it and closes it last.
 */
export class BrokerFeed {
  private opened: Promise<void> | undefined;
  /** The position after the last batch handed out (the one the loop trains next). */
  private handedOut: SourcePosition | undefined;
  private closed = false;

  constructor(
    readonly source: BrokerSource,
    private readonly trainer: Trainer,
    private readonly visible: UnitLayer,
    private readonly onRefused?: (message: RefusedMessage) => void,
  ) {}

  /** The loop's iterator of batches (one per step); `signal` stops a read waiting for the broker. */
  iterator(signal: AbortSignal): AsyncIterator<Matrix> {
    return {
      next: async () => {
        await this.open();
        const batch = await this.source.next(this.trainer.config.batchSize, signal);
        if (batch === undefined) return { done: true, value: undefined };
        this.handedOut = batch.position;
        return { done: false, value: batch.rows };
      },
      // Stopping the loop leaves the source open: the run's last checkpoint still acknowledges.
      return: async () => ({ done: true, value: undefined }),
    };
  }

  /** After a step: the trainer now holds the rows up to the position of the batch it trained. */
  stepDone(): void {
    if (this.handedOut !== undefined) this.trainer.sourcePosition = this.handedOut;
  }

  /** After a durable checkpoint: the broker may forget what it holds. */
  async checkpointed(position: SourcePosition | undefined): Promise<void> {
    if (position !== undefined && this.opened !== undefined && !this.closed) await this.source.acknowledge(position);
  }

  /** Closes the source (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
  }

  private open(): Promise<void> {
    if (this.opened === undefined) {
      const visible = this.visible;
      const columns = visible.size;
      const options: BrokerOpenOptions = {
        ...(this.trainer.sourcePosition === undefined ? {} : { saved: this.trainer.sourcePosition }),
        // A row out of the visible units' range would fail the whole step: it is refused alone instead.
        checkRow: (row) => {
          try {
            visible.validate(new Matrix(1, columns, row), 'the row');
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
        ...(this.onRefused === undefined ? {} : { onRefused: this.onRefused }),
      };
      this.opened = this.source.open(options);
    }
    return this.opened;
  }
}
