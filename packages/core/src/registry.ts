import { InvalidValueError } from '@boltzmann/tensor';

/**
 * A name -> factory map of one kind of component (unit types, optimizers, estimators...), one
 * of the registries of a `Components` set. Specs and model files name components; the set's
 * registries build them. A component is one registration.
 */
export class Registry<F> {
  private readonly entries = new Map<string, F>();
  private frozen = false;

  /** @param kind what the entries are, for error messages ("unit type", "optimizer"). */
  constructor(readonly kind: string) {}

  /** Adds or replaces the factory for `name` (a later registration of a name wins). */
  register(name: string, factory: F): this {
    if (this.frozen) {
      throw new InvalidValueError(
        `the built-in ${this.kind} registry is shared and read-only; register "${name}" into your own component set (builtinComponents()) and pass that set`,
      );
    }
    this.entries.set(name, factory);
    return this;
  }

  /** Makes `register` throw from now on (the shared default set). */
  freeze(): this {
    this.frozen = true;
    return this;
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
