import { InvalidValueError } from '@boltzmann/tensor';

/** One problem in a run spec: the field (a path such as "training.regularizers[0].type") and what is wrong. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A run spec that cannot run: lists every problem found, each naming its field (one problem:
 * one line, `invalid spec.json: training.batchSize: must be ...`), e.g.
 *
 *   invalid spec.json:
 *     training.batchSize: must be an integer >= 1, got 0
 *     training.optimizer.type: unknown optimizer "adamw" (did you mean "adam"?); registered: adam, sgd
 */
export class SpecError extends InvalidValueError {
  constructor(
    readonly issues: readonly SpecIssue[],
    readonly source = 'run spec',
  ) {
    super(issues.length === 1 ? `invalid ${source}: ${issues[0]!.path}: ${issues[0]!.message}` : `invalid ${source}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
}
