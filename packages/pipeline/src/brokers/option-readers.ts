import { InvalidValueError } from '@boltzmann/tensor';

/**
 * Readers of a broker source's options, each refusing a bad value with one line naming the
 * option: `text` a non-empty string, `whole` a safe integer of at least `min`; `fallback`
 * stands in for an absent option.
 */
export function optionReaders<O extends object>(options: O): {
  text(key: keyof O & string, fallback?: string): string;
  whole(key: keyof O & string, fallback: number, min: number): number;
} {
  const given = options as Record<string, unknown>;
  return {
    text(key, fallback) {
      const v = given[key] ?? fallback;
      if (typeof v !== 'string' || v === '') throw new InvalidValueError(`"${key}" must be a non-empty string, got ${JSON.stringify(v) ?? 'nothing'}`);
      return v;
    },
    whole(key, fallback, min) {
      const v = given[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidValueError(`"${key}" must be an integer >= ${min}, got ${JSON.stringify(v) ?? 'nothing'}`);
      return v;
    },
  };
}
