// The values an AISS-1 payload can hold. Kept apart so canonical.ts and json.ts do not import each other.

/**
 * A float whose value happens to be integral (`25.0`, `1e+16`). Plain JS numbers that are integral are
 * treated as integers, as Python does for `int`; wrap a value in Float to stamp it as a float.
 * Non-integral floats need no wrapper: a JS number like 0.5 can only be a float.
 */
export class Float {
  readonly value: number
  constructor (value: number) {
    if (typeof value !== 'number') throw new TypeError(`Float expected a number, got ${typeof value}`)
    this.value = value
  }

  valueOf (): number { return this.value }
  toJSON (): number { return this.value }
}

export type JsonValue = null | boolean | number | bigint | string | Float | JsonValue[] | JsonObject
export interface JsonObject { [key: string]: JsonValue }

