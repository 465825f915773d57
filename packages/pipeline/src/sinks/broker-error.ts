import { BoltzmannError } from '@boltzmann/tensor';

/** A message broker could not be reached, or refused what it was asked ("cannot reach Redis at redis://127.0.0.1:6379: connect ECONNREFUSED"). */
export class BrokerError extends BoltzmannError {}

/** The cause of a client's error in one line (an AggregateError of several addresses names the first). */
export function brokerCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return brokerCause(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
