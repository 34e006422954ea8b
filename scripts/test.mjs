#!/usr/bin/env node
// Runs every test/**/*.test.ts in its own process (each file is one uvu suite), two at a time on
// this 2-core class of machine, and ends with the plain "N passed, N failed" line CI reads.
// A file may be named on the command line to run only it: `npm test -- test/canonical.test.ts`.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(import.meta.url), '..', '..')
const wanted = process.argv.slice(2)
const files = wanted.length ? wanted : findTests(join(root, 'test'))
const parallel = Number(process.env.PCP_TEST_JOBS || 2)
// A file that hangs (a test awaiting an event that never comes) must fail, not stall CI: past this it is
// killed with its process group and reported with the output it gave. The slowest file (package.test: pack, install, run) takes ~4 min on a 2-core machine at load 15.
const fileTimeoutMs = Number(process.env.PCP_TEST_FILE_TIMEOUT_MS || 420_000)

function findTests (dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) out.push(...findTests(full))
    else if (name.endsWith('.test.ts')) out.push(full)
  }
  return out
}

function runOne (file) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: process.env, detached: true })
    let out = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try { process.kill(-child.pid, 'SIGKILL') } catch { child.kill('SIGKILL') }
    }, fileTimeoutMs)
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) out += `\n(killed: no result after ${fileTimeoutMs / 1000} s; PCP_TEST_FILE_TIMEOUT_MS sets the limit)\n`
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
      const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0)
      const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0)
      const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0)
      resolve({ file, code, signal, out, total, passed, skipped, ms: Date.now() - started })
    })
  })
}

const results = []
const queue = [...files]
async function worker () {
  for (let f = queue.shift(); f; f = queue.shift()) {
    const r = await runOne(f)
    results.push(r)
    // uvu's Total leaves skipped tests out; a file whose tests all skipped (saying why) is not a failure.
    const ok = r.code === 0 && (r.total > 0 || r.skipped > 0) && r.passed === r.total
    const name = relative(root, r.file)
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}  ${r.passed}/${r.total}${r.skipped ? ` (${r.skipped} skipped)` : ''}  ${(r.ms / 1000).toFixed(1)}s`)
    if (!ok || process.env.PCP_TEST_VERBOSE) console.log(r.out.split('\n').map((l) => '    ' + l).join('\n'))
  }
}
await Promise.all(Array.from({ length: parallel }, worker))

let passed = 0; let failed = 0; let skipped = 0
for (const r of results) {
  passed += r.passed
  skipped += r.skipped
  // A file that crashed before uvu counted anything still counts as one failure.
  failed += Math.max(r.total - r.passed, r.code === 0 ? 0 : 1)
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed ? 1 : 0)
