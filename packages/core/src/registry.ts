import { InvalidValueError } from '@boltzmann/tensor';

/**
 * A name -> factory map (unit types, optimizers, estimators...). `load()` and the DI container
 * build objects from the names stored in specs through these; a plugin adds one entry.
 */
export class Registry<F> {
  private readonly entries = new Map<string, F>();

  /** @param kind what the entries are, for error messages ("unit type", "optimizer"). */
  constructor(readonly kind: string) {}

  /** Adds or replaces the factory for `name`. */
  register(name: string, factory: F): this {
    this.entries.set(name, factory);
    return this;
  }

  /** Removes `name` (a plugin's container giving its entries back); returns whether it was there. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The factory for `name`; an unknown name gives an error listing the known ones. */
  get(name: string): F {
    const factory = this.entries.get(name);
    if (factory === undefined) {
      throw new InvalidValueError(`unknown ${this.kind} "${name}"; registered: ${this.names().join(', ') || 'none'}`);
    }
    return factory;
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }
}
