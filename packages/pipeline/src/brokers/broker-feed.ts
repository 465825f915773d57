import type { UnitLayer, Trainer } from '@boltzmann/core';
import { Matrix } from '@boltzmann/tensor';
import type { BrokerBatch, BrokerOpenOptions, BrokerSource, RefusedMessage, SourcePosition } from './broker-source.js';

/**
 * Feeds a trainer from a broker source, exactly once with respect to its checkpoints: opens
 * the source at the trainer's saved position, hands out one batch of the trainer's batch size
 * per step, moves the position of the rows just trained into the trainer after each step
 * (`stepDone`), and acknowledges a position once a checkpoint holding it is durable
 * (`checkpointed`). The training run owns it and closes it last.
 *
 * While the loop trains on one batch, the next one is read (the broker's round trip overlaps
 * the step), never more: entries read and not trained stay within one batch beyond the step
 * being trained, and none is read past the run's last step (`lastStep`).
 */
export class BrokerFeed {
  private opened: Promise<void> | undefined;
  /** The position after the last batch handed out (the one the loop trains next). */
  private handedOut: SourcePosition | undefined;
  private closed = false;
  /** The next batch, being read while the loop trains on the one handed out. */
  private ahead: Promise<BrokerBatch | undefined> | undefined;

  constructor(
    readonly source: BrokerSource,
    private readonly trainer: Trainer,
    private readonly visible: UnitLayer,
    /** The step the run ends after (epochs x steps per epoch; Infinity: no end). */
    private readonly lastStep: number,
    private readonly onRefused?: (message: RefusedMessage) => void,
  ) {}

  /** The loop's iterator of batches (one per step); `signal` stops a read waiting for the broker. */
  iterator(signal: AbortSignal): AsyncIterator<Matrix> {
    return {
      next: async () => {
        await this.open();
        const pending = this.ahead ?? this.read(signal);
        this.ahead = undefined;
        const batch = await pending;
        if (batch === undefined) return { done: true, value: undefined };
        this.handedOut = batch.position;
        // This batch trains as step trainer.step + 1; read the next while it does, if the run has one.
        if (this.trainer.step + 2 <= this.lastStep && !signal.aborted) this.ahead = this.read(signal);
        return { done: false, value: batch.rows };
      },
      // Stopping the loop leaves the source open: the run's last checkpoint still acknowledges.
      return: async () => ({ done: true, value: undefined }),
    };
  }

  /** One batch from the source; its failure is kept for whoever awaits it (none, when the run ends first). */
  private read(signal: AbortSignal): Promise<BrokerBatch | undefined> {
    const batch = this.source.next(this.trainer.config.batchSize, signal);
    batch.catch(() => undefined);
    return batch;
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
    // A batch read ahead and never trained stays with the broker (delivered again to the next run);
    // a read still waiting for entries ends with the connection.
    this.ahead = undefined;
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
