/**
 * @boltzmann/core: Boltzmann machines as graphs of stochastic layers and connections, with
 * samplers, learning rules (CD-k, PCD-k), optimizers, regularizers, schedules, metrics and
 * model files. Plain TypeScript classes over a `Backend` from @boltzmann/tensor; core imports
 * no backend package, no RxJS and no DI container.
 *
 * Extension points: one set of components (`Components`: a registry per kind - unit types,
 * connections, model kinds, samplers, estimators, optimizers, regularizers, schedules,
 * metrics, backends) that the functions building from names take explicitly, defaulting to the
 * built-ins. A new component is one file plus one registration into a set
 * (`builtinComponents()` gives a fresh one). See docs/ARCHITECTURE.md.
 *
 * @example
 * ```ts
 * import { CpuBackend } from '@boltzmann/backend-cpu';
 * import { RBM, Trainer, loadRBM, pseudoLogLikelihood, saveModel } from '@boltzmann/core';
 *
 * const backend = new CpuBackend({ precision: 'float32' });
 * const rbm = RBM.create(backend, { visible: 784, hidden: 500, seed: 1 }); // W ~ N(0, 0.01)
 * const trainer = new Trainer(rbm, { seed: 1 }); // CD-1, lr 0.05, batch 100, momentum 0.5->0.9, L2 1e-4
 * await trainer.fit(train, {                     // train, test: Matrix (rows = images, values in [0, 1])
 *   epochs: 10,
 *   validation: test,
 *   onEpoch: (r) => console.log(r.epoch, r.reconstructionError, r.pseudoLogLikelihood),
 * });
 * const features = await rbm.transform(test);            // hidden probabilities, test.rows x 500
 * const samples = await rbm.sample(16, { steps: 1000 });  // visible probabilities after 1000 Gibbs sweeps
 * console.log(await pseudoLogLikelihood(rbm, test, { seed: 0 }));
 * await saveModel('rbm.json', rbm, trainer);              // one atomic JSON file (FORMAT.md)
 * const { model, trainer: resumed } = loadRBM('rbm.json', backend);
 * await resumed!.fit(train, { epochs: 5 });               // continues the same run exactly
 * ```
 */
export { Registry } from './registry.js';
export { builtinComponents, defaultComponents, componentsOf, withAutoBackend, createBackendFrom, type Components } from './components.js';
export { Workspace } from './workspace.js';
export type { Parameter, ModelParameter, ParameterRole } from './parameter.js';
export { RngStreams } from './rng-streams.js';
export { checkMatrix, checkNumber, checkInteger } from './validation.js';
/**
 * Option checks for plugins (a unit type, connection, estimator, optimizer, regularizer or
 * schedule registered from outside core), so their specs refuse bad options with the messages
 * the built-in ones give: `checkOptionKeys` refuses an unknown (misspelt) key, listing the
 * options and suggesting the nearest ('did you mean "coefficient"?'); `checkBoolean` refuses a
 * flag that is not true or false; `suggestName` gives that suggestion for any name and list.
 *
 * @example
 * ```ts
 * const components = builtinComponents();
 * components.regularizers.register('my-penalty', (spec) => {
 *   checkOptionKeys('regularizer "my-penalty"', spec, ['coefficient', 'biases']);
 *   const coefficient = checkNumber('my-penalty "coefficient"', spec['coefficient'] ?? 1e-3, 0);
 *   return new MyPenalty(coefficient, checkBoolean('my-penalty "biases"', spec['biases'] ?? false));
 * });
 * // new Trainer(rbm, { components, regularizers: [{ type: 'my-penalty', coeficient: 0.1 }] }) throws:
 * //   regularizer "my-penalty" has an unknown option "coeficient"; its options are "coefficient", "biases" (did you mean "coefficient"?)
 * ```
 */
export { checkOptionKeys, checkBoolean, nearestName, suggestName } from './validation.js';

// units
export { checkUnitOptions, type UnitLayer, type UnitSpec, type UnitFactory } from './units/unit-layer.js';
export { BernoulliLayer, BIAS_INIT_EPSILON } from './units/bernoulli.js';
export { GaussianLayer, type GaussianVariance } from './units/gaussian.js';
export { MultinomialLayer } from './units/multinomial.js';
export { ReLULayer } from './units/relu.js';
export { builtinUnitTypes } from './units/registry.js';

// connections
export type { Connection } from './connections/connection.js';
export { DenseConnection, type ConnectionSpec, type WeightInit } from './connections/dense.js';
export { builtinConnectionTypes, type ConnectionFactory } from './connections/registry.js';

// models
export { EnergyModel, type ModelOptions, type ModelSpec, type GradientSet, type LayerStates } from './models/energy-model.js';
export { RBM, createLayer, type RBMOptions, type LayerOptions, type SampleOptions } from './models/rbm.js';
export { builtinModelKinds, buildModel, type ModelFactory, type BuildModelOptions, type BuildStep } from './models/registry.js';
export { mapRows, forEachChunk, rowsView, CHUNK_ROWS } from './models/host-data.js';

// samplers
export { Chain } from './samplers/chain.js';
export { GibbsSampler, type GibbsOptions } from './samplers/gibbs.js';
export { UnsupportedModelError, checkSampleRequest, type Sampler, type SamplerFactory, type SamplerSpec, type SampleRequest, type CheckedSampleRequest } from './samplers/sampler.js';
export { builtinSamplers } from './samplers/registry.js';
export { GibbsModelSampler } from './samplers/gibbs-model-sampler.js';
export { GlauberModelSampler, type GlauberModelSamplerOptions } from './samplers/glauber-model-sampler.js';
export { ParallelDynamicsModelSampler, type ParallelDynamicsModelSamplerOptions } from './samplers/parallel-dynamics-model-sampler.js';

// estimators
export type { Estimator, EstimatorSpec, StepObserver, StepContext, UnitMasks } from './estimators/estimator.js';
export { ContrastiveDivergence, type ContrastiveDivergenceOptions, type StatisticSource } from './estimators/contrastive-divergence.js';
export { builtinEstimators, type EstimatorFactory } from './estimators/registry.js';
export { ParallelTempering, checkBetas, temperingBetas, type ParallelTemperingOptions, type BetaSpacing } from './estimators/parallel-tempering.js';

// optimizers
export type { Optimizer, OptimizerSpec, Hyperparameters } from './optimizers/optimizer.js';
export { SGD, type SGDOptions } from './optimizers/sgd.js';
export { Adam, type AdamOptions } from './optimizers/adam.js';
export { builtinOptimizers, type OptimizerFactory } from './optimizers/registry.js';

// regularizers
export type { Regularizer, RegularizerSpec, RegularizerContext } from './regularizers/regularizer.js';
export { L2WeightDecay } from './regularizers/l2.js';
export { L1WeightDecay } from './regularizers/l1.js';
export { MaxNorm } from './regularizers/max-norm.js';
export { Dropout, type DropoutOptions } from './regularizers/dropout.js';
export { SparsityTarget, type SparsityOptions } from './regularizers/sparsity.js';
export { builtinRegularizers, type RegularizerFactory } from './regularizers/registry.js';

// schedules
export { isSchedule, type Schedule, type ScheduleSpec, type ScheduleClock } from './schedules/schedule.js';
export { Constant } from './schedules/constant.js';
export { LinearRamp, type LinearRampOptions } from './schedules/linear-ramp.js';
export { EpochList } from './schedules/epoch-list.js';
export { StepDecay, type StepDecayOptions } from './schedules/step-decay.js';
export { ExponentialDecay, type ExponentialDecayOptions } from './schedules/exponential-decay.js';
export { builtinSchedules, toSchedule, checkScheduleCovers, type ScheduleFactory } from './schedules/registry.js';

// metrics
export { DeviceSum, type Metric } from './metrics/metric.js';
export { builtinMetrics, type MetricFactory, type MetricOptions } from './metrics/registry.js';
export { FreeEnergyMetric } from './metrics/free-energy.js';
export { ReconstructionErrorMetric } from './metrics/reconstruction-error.js';
export { MeanActivationMetric } from './metrics/mean-activation.js';
export { WeightNormMetric } from './metrics/weight-norm.js';
export { UpdateNormMetric } from './metrics/update-norm.js';
export { PseudoLikelihoodMetric, flipIndices, pseudoLogLikelihood, pseudoLogLikelihoodRows } from './metrics/pseudo-likelihood.js';
export {
  exactLogPartition,
  exactLogLikelihood,
  exactLogLikelihoodRows,
  exactLogZObstacle,
  MAX_EXACT_STATES,
  type ExactOptions,
} from './metrics/exact-likelihood.js';

// training
export {
  Trainer,
  type TrainerOptions,
  type TrainingConfig,
  type TrainingCheckpoint,
  type FitOptions,
  type EpochReport,
  type SplitValue,
  type StepOptions,
} from './training/trainer.js';
export { checkSourcePosition, MAX_SOURCE_POSITION_BYTES, type SourcePosition, type JsonValue } from './training/source-position.js';
export { TRAINING_DEFAULTS, defaultMomentum } from './training/defaults.js';
export { DivergenceGuard } from './training/divergence-guard.js';
export { BlowUpRule } from './training/blow-up-rule.js';
export { EpochMonitor, evenlySpaced, type MonitorOptions } from './training/epoch-monitor.js';
export { trainingLoop, type TrainingLoopOptions, type TrainingData, type TrainingRows, type LoopEvent } from './training/training-loop.js';
export {
  epochLoop,
  type Learner,
  type LoopSource,
  type BatchStream,
  type TrainingPosition,
  type EpochLoopEvent,
  type LoopEnd,
  type LoopStartedEvent,
  type LoopBatchEndEvent,
  type LoopEpochEndEvent,
} from './training/epoch-loop.js';
export { monitorSupport, checkMonitorable, resolveMonitor, type MonitorSupport, type MonitoredMetric, type MonitorChoice, type ResolvedMonitor } from './training/monitoring.js';

// serialization
export {
  encodeModel,
  decodeModel,
  type LoadModelOptions,
  writeModel,
  memoryReader,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelDocument,
  type LoadedModel,
  type ByteSink,
  type ByteReader,
} from './serialization/model-codec.js';
export { MODEL_MAGIC, MODEL_HEADER_LIMIT, type ModelHeader, type ArrayEntry } from './serialization/model-format.js';
export { encodeArray, decodeArray, crc32, type EncodedArray } from './serialization/array-codec.js';

// general Boltzmann machines (lateral weights, Glauber and parallel dynamics, wake/dream learning)
export { QuadraticEnergy, checkSymmetricZeroDiagonal, type UnitValues, type QuadraticEnergyOptions } from './models/quadratic-energy.js';
export { LateralConnection } from './connections/lateral.js';
export { graphQuadraticEnergy, unitOffsets, checkQuadraticModel } from './models/graph-energy.js';
export { BoltzmannMachine, type BoltzmannMachineOptions, type BoltzmannSampleOptions } from './models/boltzmann-machine.js';
export { GlauberSampler, GlauberChains, type GlauberOptions } from './samplers/glauber.js';
export { ParallelDynamics, type ParallelDynamicsOptions } from './samplers/parallel-dynamics.js';
export {
  exactBoltzmannDistribution,
  exactBoltzmannLogPartition,
  exactBoltzmannLogLikelihood,
  exactConditionalStatistics,
  exactMoments,
  enumerateFree,
  leadingMarginal,
  totalVariation,
  empiricalDistribution,
  entropy,
  MAX_EXACT_UNITS,
  type ExactBoltzmannOptions,
  type ConditionalStatistics,
} from './metrics/exact-boltzmann.js';
export { WakeDream, type WakeDreamOptions } from './learning/wake-dream.js';

// constraint satisfaction by simulated annealing (fixed-weight Boltzmann machines as solvers)
export { TemperatureList, checkCooling, type CoolingSchedule, type CoolingScheduleSpec } from './annealing/cooling-schedule.js';
export { GeometricCooling, type GeometricCoolingOptions } from './annealing/geometric-cooling.js';
export { LinearCooling, type LinearCoolingOptions } from './annealing/linear-cooling.js';
export { simulatedAnnealing, descend, type AnnealingOptions, type AnnealingResult, type AnnealingStage } from './annealing/simulated-annealing.js';
export { solveByAnnealing, type ConstraintProblem, type AnnealedSolution } from './annealing/constraint-problem.js';
export { MaxCut, type WeightedEdge, type Cut } from './annealing/max-cut.js';
export { NQueens, type NQueensOptions } from './annealing/n-queens.js';
export { GraphColouring, type GraphColouringOptions } from './annealing/graph-colouring.js';

// recommender RBM (softmax visible units over rating levels, per-user masks)
export { groupRatingsByUser, holdOutRatings, type Ratings, type RatingsByUser, type HoldOutOptions } from './models/ratings.js';
export { ratingRmse, itemMeanPredictions } from './metrics/rating-error.js';
export { type ModelFitOptions } from './models/model-fit-options.js';
export { RecommenderRBM, compareWithItemMeans, type RecommenderRBMOptions, type RecommenderFitOptions, type RecommenderEpoch } from './models/recommender-rbm.js';

// conditional RBM for sequences (autoregressive visible and dynamic hidden biases)
export { UnsampledLayer } from './units/unsampled.js';
export { ConditionalRBM, type ConditionalRBMOptions, type SequenceFitOptions, type GenerateOptions } from './models/conditional-rbm.js';

// deep Boltzmann machines (mean-field inference, greedy pretraining, joint training) and AIS
export { computeScaledInput, type ScaledInputOptions } from './models/scaled-input.js';
export { MeanField, type MeanFieldOptions, type MeanFieldReport } from './samplers/mean-field.js';
export { DBM, dbmLayerName, type DBMOptions, type TransformOptions } from './models/dbm.js';
export { pretrainDBM, type DBMPretrainingOptions, type PretrainedDBM } from './models/dbm-pretraining.js';
export { MeanFieldPCD, type MeanFieldPCDOptions, type ChainInit } from './estimators/mean-field-pcd.js';
export { ScaledFieldCD, type ScaledFieldCDOptions } from './estimators/scaled-field-cd.js';
export { AnnealingPath, type AnnealingStart, type AnnealingPathOptions } from './samplers/annealing-path.js';
export { annealedImportanceSampling, aisBetas, aisLogLikelihood, DEFAULT_AIS_BETAS, SMALL_EFFECTIVE_SAMPLE_FRACTION, type AISOptions, type AISResult, type AISLogLikelihood } from './metrics/ais.js';
export { reverseAnnealedImportanceSampling, type ReverseAISOptions, type ReverseAISResult } from './metrics/reverse-ais.js';
export { logPartitionSandwich, logLikelihoodSandwich, type SandwichOptions, type LogZSandwich, type LogLikelihoodSandwich } from './metrics/log-z-sandwich.js';
export { summedOutBlock, type SumOut } from './samplers/annealing-chains.js';
export { addVariationalBound, variationalLowerBound, variationalLowerBoundRows, type VariationalBoundOptions } from './metrics/variational-bound.js';

// classifiers and deep belief networks (greedy stacks, softmax read-out, fine-tuning by backpropagation)
export { checkLabels, classCount, oneHot, argmaxRows, accuracy, type Labels } from './classifiers/labels.js';
export { FeedForwardNet, type Activation, type NetLayer, type FeedForwardNetOptions, type ClassifierFitOptions, type ClassifierEpoch } from './classifiers/feed-forward-net.js';
export { DBN, type DBNOptions, type DBNPretrainOptions, type DBNClassifierOptions } from './models/dbn.js';
