// The values an AISS-1 payload can hold. Kept apart so canonical.ts and json.ts do not import each other.

/**
 * How deep arrays and objects may nest in any value we canonicalise, parse or store (a scalar is depth 0,
 * `{}` depth 1; a signed event counts itself, so a stamp's payload may nest 999 deep). The reference's
 * canonicalize() is json.dumps under CPython's default recursion limit of 1000, which fails near depth
 * 995: nothing it signed is deeper than this, so we refuse nothing it can produce, and every codec here
 * is tested at this depth. Deeper values are refused up front with CANONICAL_TOO_DEEP, never by a stack
 * overflow halfway through a write.
 */
export const MAX_DEPTH = 1000
/**
 * The limit for JSON documents that carry events (an audit export, `--json` lists, envelopes): the
 * levels around the events (export > events > event) do not count against an event's MAX_DEPTH.
 */
export const MAX_DOCUMENT_DEPTH = MAX_DEPTH + 16

/**
 * Sets `key` as an own enumerable key, as JSON.parse does. Assignment (or Object.assign) would, for a
 * "__proto__" key, set the prototype instead and drop the key from the canonical bytes.
 */
export function setOwnKey (o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
}

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

