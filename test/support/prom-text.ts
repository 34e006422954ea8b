// A strict reader of the Prometheus text format 0.0.4 for the tests: every line's grammar is checked,
// every sample must follow its family's TYPE, and histograms must be well-formed (cumulative buckets
// ending in le="+Inf" equal to _count). Written from the format's spec, not from prom-client's code,
// so it catches a writer that drifts from the format.
import * as assert from 'uvu/assert'

export interface Exposition {
  /** 'name{labels}' → value, labels as written. */
  samples: Map<string, number>
  /** family name → counter | gauge | histogram */
  types: Map<string, string>
}

export function parseExposition (text: string): Exposition {
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line === '') continue // empty lines are ignored by the format
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line)
    if (t) { types.set(t[1]!, t[2]!); continue }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line)
    assert.ok(m, `bad exposition line: ${JSON.stringify(line)}`)
    const family = m![1]!.replace(/_(bucket|sum|count)$/, '')
    assert.ok(types.has(m![1]!) || types.get(family) === 'histogram', `sample before its TYPE: ${line}`)
    samples.set(m![1]! + (m![2] ?? ''), Number(m![3]!.replace('+Inf', 'Infinity')))
  }
  return { samples, types }
}

export interface HistogramSeries { buckets: Array<[number, number]>, sum: number, count: number }

/** The label pairs of a sample key 'name{a="1",b="2"}', in any order. */
function labelsOf (key: string): { name: string, labels: Map<string, string> } {
  const brace = key.indexOf('{')
  const labels = new Map<string, string>()
  if (brace < 0) return { name: key, labels }
  for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1]!, m[2]!)
  return { name: key.slice(0, brace), labels }
}

const sameLabels = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

/** One histogram series (`labels`: its label pairs without `le`, e.g. 'source="gate",outcome="ALLOW"', in any order), checked for shape. */
export function histogram (e: Exposition, name: string, labels = ''): HistogramSeries | undefined {
  assert.is(e.types.get(name), 'histogram', `${name} is a histogram`)
  const want = labelsOf(`x{${labels}}`).labels
  const buckets: Array<[number, number]> = []
  let sum: number | undefined
  let count: number | undefined
  for (const [k, v] of e.samples) {
    const s = labelsOf(k)
    if (s.name === `${name}_bucket`) {
      const le = s.labels.get('le')
      assert.ok(le !== undefined, `${k}: a bucket has le`)
      s.labels.delete('le')
      if (sameLabels(s.labels, want)) buckets.push([Number(le.replace('+Inf', 'Infinity')), v])
    } else if (s.name === `${name}_sum` && sameLabels(s.labels, want)) sum = v
    else if (s.name === `${name}_count` && sameLabels(s.labels, want)) count = v
  }
  const what = `${name}{${labels}}`
  if (buckets.length === 0 && count === undefined) return undefined
  assert.ok(count !== undefined && sum !== undefined && buckets.length > 0, `${what}: buckets, _count and _sum present`)
  buckets.sort((a, b) => a[0] - b[0])
  assert.is(buckets.at(-1)![0], Infinity, `${what}: last bucket is le="+Inf"`)
  assert.is(buckets.at(-1)![1], count, `${what}: +Inf bucket equals _count`)
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${what}: buckets are cumulative`)
  return { buckets, sum: sum!, count: count! }
}
