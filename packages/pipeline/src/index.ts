/**
 * @boltzmann/pipeline: the streaming wiring around core's math, in RxJS. Data sources as
 * Observables that produce only on demand (the trainer pulls), operators (seeded shuffle, batch,
 * binarize, normalize, train/validation split), `train()` as an Observable of typed events with
 * checkpoints, resume, early stopping and sliding-window metrics, and consumers of those events
 * (JSONL logger, metrics collector, text progress bar).
 */

// training
export { train, resolveTrainOptions, type TrainOptions, type ResolvedTrainOptions } from './train.js';
export type { MonitorOptions } from '@boltzmann/core';
export { validateSession, type TrainingSession, type DataFactory, type StreamPosition, type SessionData } from './session.js';
export type {
  TrainingEvent,
  TrainingEventType,
  StartedEvent,
  BatchEndEvent,
  EpochEndEvent,
  CheckpointWrittenEvent,
  EarlyStopEvent,
  FinishedEvent,
  TrainingSummary,
  StopReason,
  WindowMetrics,
} from './events.js';
export { Checkpointer, type CheckpointOptions } from './checkpoint.js';
export { resumeSession } from './resume.js';
export {
  EarlyStopping,
  defaultStoppingMetric,
  checkStoppingMetric,
  type StoppingContext,
  type EarlyStoppingOptions,
  type EarlyStoppingMetricName,
  type CustomStoppingMetric,
  type StoppingDecision,
} from './early-stopping.js';
export { WindowEvaluator, type WindowOptions } from './window-evaluator.js';
export { SlidingWindow } from './sliding-window.js';

// demand (the trainer pulls)
export { Demand, withDemand, currentDemand } from './demand.js';
export { demandDriven, pumpIterator, type MaybeAsyncIterator } from './demand-driven.js';
export { demandAwareOperator, MAX_PENDING_BYTES, type PendingBound, type Transducer } from './demand-operator.js';
export { pull, PullQueue, type PullOptions } from './pull.js';

// brokers (training from a message broker, exactly once with the checkpoints)
export { isBrokerSource, type BrokerSource, type BrokerBatch, type BrokerOpenOptions, type BrokerSourceSpec, type RefusedMessage, type SourcePosition, type JsonValue } from './brokers/broker-source.js';
export { RedisStreamSource, REDIS_STREAM, checkRedisStreamOptions, compareIds, type RedisStreamOptions, type ResolvedRedisStreamOptions } from './brokers/redis-stream-source.js';
export { NatsJetStreamSource, NATS_JETSTREAM, checkNatsJetStreamOptions, type NatsJetStreamOptions } from './brokers/nats-jetstream-source.js';
export { decodeRow, encodeRow, checkRowEncoding, RowDecodeError, ROW_ENCODINGS, type RowEncoding } from './brokers/row-encoding.js';

// sources
export { fromIterable, fromArray } from './sources/from-iterable.js';
export { fromMatrix, type FromMatrixOptions } from './sources/from-matrix.js';
export { fromFile, type FromFileOptions } from './sources/from-file.js';
export { generatorStream, MAX_GENERATOR_INDEX, type GeneratorStreamOptions } from './sources/generator-stream.js';

// operators
export { shuffle, type ShuffleOptions } from './operators/shuffle.js';
export { batch, type BatchOptions } from './operators/batch.js';
export { binarize, type BinarizeOptions } from './operators/binarize.js';
export { normalize, columnStatistics, type NormalizeOptions } from './operators/normalize.js';
export { splitStream, splitRows, type SplitOptions } from './operators/split.js';
export { collectRows } from './operators/collect.js';

// consumers
export { JsonlLogger, readJsonl, type JsonlLoggerOptions } from './consumers/jsonl-logger.js';
export { MetricsCollector, type Series, type EpochSeriesName, type StepSeriesName } from './consumers/metrics-collector.js';
export { ProgressBar, formatReport, formatDuration, type ProgressBarOptions, type TextSink } from './consumers/progress-bar.js';

// event sinks (a run's events on a broker) and following them
export { EventPublisher, type EventTransport, type EventPublisherOptions, type PublishReport } from './sinks/event-publisher.js';
export { encodeEventMessage, decodeEventMessage, type EventMessage, type RunFailedEvent } from './sinks/event-message.js';
export { redisStreamSink, connectRedis, REDIS_EVENT_FIELD, type RedisStreamSinkOptions } from './sinks/redis-stream-sink.js';
export { natsJetStreamSink, ensureStream, type NatsJetStreamSinkOptions } from './sinks/nats-jetstream-sink.js';
export { connectNats } from './sinks/nats-connection.js';
export { BrokerError } from './sinks/broker-error.js';
export {
  openEventSink,
  eventSinkIssues,
  checkEventSinkSpec,
  parseEventAddress,
  eventAddress,
  EVENT_TYPES,
  type EventSinkSpec,
  type EventChannel,
  type SinkSpecIssue,
} from './sinks/event-sink-spec.js';
export { followRun, type FollowRunOptions, type FollowedItem } from './sinks/follow-run.js';
