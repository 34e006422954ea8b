// Deploying the Pi example without dev tools (issue 17 #5): `npm pack` (which builds), the tarball
// installed with `npm install --omit=dev` into an empty directory, and the fan example run from there
// with plain `node` (no tsx, no TypeScript), SIMULATED GPIO and temperature (PCP_SIMULATE=1), its
// encrypted key's passphrase handed over as a systemd-style credential ($CREDENTIALS_DIRECTORY). The
// chain it leaves is exported and verified with the installed `pcp`. Also checks the systemd unit runs
// that same file, takes the passphrase by LoadCredential= and waits for time sync. Prints peak RSS.
// The character-device GPIO backend loads its prebuilt addon there (nothing compiled at install).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tmpDir } from './helpers.js'

const Deploy = suite('rpi deploy: the fan example from an --omit=dev install, plain node')
const work = tmpDir('pcp-rpi-deploy-')
const app = join(work.path, 'app')
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && k !== 'NODE_OPTIONS'))
const sh = (line: string, cwd: string): { status: number | null, out: string } => {
  const r = spawnSync('sh', ['-c', line], { cwd, encoding: 'utf8', env, timeout: 300_000 })
  return { status: r.status, out: r.stdout + r.stderr }
}
const EXAMPLE = 'node_modules/pcp-edge/dist/rpi/examples/fan-control.js'

Deploy('npm pack, then npm install --omit=dev of the tarball into an empty directory: no dev tools arrive', () => {
  let r = sh(`npm pack --pack-destination ${JSON.stringify(work.path)}`, ROOT)
  assert.is(r.status, 0, r.out)
  const tarball = join(work.path, readdirSync(work.path).find((f) => f.endsWith('.tgz'))!)
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pi-app', version: '1.0.0', private: true }))
  r = sh(`npm install --omit=dev --no-audit --no-fund --prefer-offline ${JSON.stringify(tarball)}`, app)
  assert.is(r.status, 0, r.out)
  for (const dev of ['tsx', 'typescript', 'esbuild', 'uvu', 'onoff', 'i2c-bus']) assert.not.ok(existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`)
  assert.ok(existsSync(join(app, EXAMPLE)), 'the built example is in the package')
})

Deploy('the character-device backend loads its prebuilt addon from that install: no compiler, no local build', () => {
  const pkg = join(app, 'node_modules/pcp-edge')
  assert.not.ok(existsSync(join(pkg, 'rpi/native/build')), 'nothing was built at install')
  // Through the public API: resolvePin loads the addon, then finds no chip in the empty devRoot (a
  // missing addon would be GPIO_BACKEND_MISSING instead); then the loader says which file it took.
  const check = `import { chardevBackend } from 'pcp-edge/rpi'
import { loadGpiochipAddon, gpiochipAddonPath } from './node_modules/pcp-edge/dist/rpi/chardev/addon.js'
import { openSync } from 'node:fs'
let code; try { chardevBackend({ devRoot: process.argv[2] }).resolvePin(17) } catch (e) { code = e.code }
let errno; try { loadGpiochipAddon().ioctl(openSync('/dev/null', 'r'), 0x8044b401, new Uint8Array(68)) } catch (e) { errno = e.code }
console.log(JSON.stringify({ code, errno, from: gpiochipAddonPath() }))`
  writeFileSync(join(app, 'check-addon.mjs'), check)
  const devRoot = join(work.path, 'no-chips'); mkdirSync(devRoot)
  const r = spawnSync(process.execPath, ['check-addon.mjs', devRoot], { cwd: app, env: { ...env, PCP_GPIOCHIP_ADDON: '' }, encoding: 'utf8' })
  assert.is(r.status, 0, r.stderr)
  const o = JSON.parse(r.stdout)
  assert.equal(o, { code: 'GPIO_CHIP_NOT_FOUND', errno: 'ENOTTY', from: join(pkg, `rpi/native/prebuilds/linux-${process.arch}/pcp_gpiochip.node`) })
})

/** Runs the example until `readings` readings are stamped, SIGTERMs it; returns its output and peak RSS (VmHWM). */
function runFan (home: string, extra: Record<string, string>, readings: number): Promise<{ code: number | null, out: string, hwmKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE], { cwd: app, env: { ...env, PCP_HOME: home, PCP_SIMULATE: '1', PCP_SAMPLE_MS: '50', ...extra } })
    let out = ''; let hwmKiB = 0; let base: number | undefined
    const poll = setInterval(() => {
      try { hwmKiB = Math.max(hwmKiB, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1])) } catch {}
      // Only once it says it runs (its SIGTERM handlers are in place and it holds the store): before
      // that, a reader would open the store itself and the starting example would find it locked.
      if (!out.includes('pcp fan control:')) return
      // The chain grows while it runs: count events through the running agent's socket.
      const r = spawnSync(process.execPath, ['node_modules/pcp-edge/bin/pcp.js', 'memory', 'head', 'pi-fan', '--json'], { cwd: app, env: { ...env, PCP_HOME: home }, encoding: 'utf8' })
      if (r.status !== 0) return
      const seq = JSON.parse(r.stdout).seq as number
      base ??= seq
      if (seq - base >= readings) { clearInterval(poll); child.kill('SIGTERM') }
    }, 300)
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    // A spawn that fails (no install to run: the pack step failed) must not leave the poll running.
    child.on('error', (err) => { clearInterval(poll); reject(err) })
    child.on('exit', (code) => { clearInterval(poll); resolve({ code, out, hwmKiB }) })
  })
}

Deploy('the fan example runs with plain node from the install, takes its passphrase from a credential, stops cleanly on SIGTERM; its chain verifies', async () => {
  const home = join(work.path, 'home-enc'); mkdirSync(home)
  const creds = join(work.path, 'creds'); mkdirSync(creds, { mode: 0o700 })
  writeFileSync(join(creds, 'pcp-passphrase'), 'correct horse battery staple\n', { mode: 0o600 })
  const first = await runFan(home, { CREDENTIALS_DIRECTORY: creds, PCP_DURABILITY: 'interval' }, 8)
  assert.is(first.code, 0, first.out)
  assert.match(first.out, /stopped \(SIGTERM\): \d+ readings/)
  assert.ok(existsSync(join(home, 'agents/pi-fan/private.key.enc')), 'the key was created encrypted with the credential')
  const plainHome = join(work.path, 'home-plain'); mkdirSync(plainHome)
  const plain = await runFan(plainHome, {}, 8)
  assert.is(plain.code, 0, plain.out)
  // Reopening an encrypted key runs scrypt (N = 2^17, r = 8: 128 MiB) once at start.
  const second = await runFan(home, { CREDENTIALS_DIRECTORY: creds }, 12)
  assert.is(second.code, 0, second.out)
  // The way around that peak (README "Pi Zero 2 W"): unlock once with the installed CLI, hand the service
  // the key as the pcp-key credential (systemd-creds would seal it; here a 0600 file), no passphrase.
  const keyCreds = join(work.path, 'key-creds'); mkdirSync(keyCreds, { mode: 0o700 })
  const u = spawnSync(process.execPath, ['node_modules/pcp-edge/bin/pcp.js', 'identity', 'unlock', 'pi-fan', '-o', join(keyCreds, 'pcp-key')], { cwd: app, env: { ...env, PCP_HOME: home, PCP_PASSPHRASE: 'correct horse battery staple' }, encoding: 'utf8' })
  assert.is(u.status, 0, u.stderr)
  const keyed = await runFan(home, { CREDENTIALS_DIRECTORY: keyCreds }, 8)
  assert.is(keyed.code, 0, keyed.out)
  assert.ok(keyed.hwmKiB < second.hwmKiB - 64 * 1024, `with the unlocked key no scrypt runs: peak ${keyed.hwmKiB} KiB vs ${second.hwmKiB} KiB with the passphrase`)
  console.log(`rpi-deploy: peak RSS (VmHWM), plain node, x86-64: plaintext key ${(plain.hwmKiB / 1024).toFixed(0)} MiB, encrypted key ${(second.hwmKiB / 1024).toFixed(0)} MiB, encrypted key opened from the unlocked pcp-key credential ${(keyed.hwmKiB / 1024).toFixed(0)} MiB`)
  const file = join(work.path, 'fan.json')
  const r = spawnSync(process.execPath, ['node_modules/pcp-edge/bin/pcp.js', 'export', 'pi-fan', '-o', file], { cwd: app, env: { ...env, PCP_HOME: home }, encoding: 'utf8' })
  assert.is(r.status, 0, r.stderr)
  const v = spawnSync(process.execPath, ['node_modules/pcp-edge/bin/pcp.js', 'verify', file, '--json'], { cwd: app, env, encoding: 'utf8' })
  assert.is(v.status, 0, v.stdout + v.stderr)
  const verdict = JSON.parse(v.stdout)
  assert.is(verdict.valid, true)
  const types = (JSON.parse(readFileSync(file, 'utf8')).events as Array<{ payload: { event_type: string } }>).map((e) => e.payload.event_type)
  assert.is(types.filter((t) => t === 'rpi_agent_shutdown').length, 3, 'all three runs ended with rpi_agent_shutdown')
  assert.ok(types.filter((t) => t === 'rpi_sensor_reading').length >= 8)
})

Deploy('the systemd unit runs the built file with plain node, takes the passphrase by LoadCredential= and waits for time sync', () => {
  // The unit as the Pi user gets it: from the installed package (it was left out of the tarball once).
  const unit = readFileSync(join(app, 'node_modules/pcp-edge/rpi/examples/pcp-fan.service'), 'utf8')
  assert.is(unit, readFileSync(join(ROOT, 'rpi/examples/pcp-fan.service'), 'utf8'))
  const directive = (k: string): string[] => [...unit.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]!.trim())
  // A ReadWritePaths= entry that does not exist fails the start (226/NAMESPACE) unless it has "-": only
  // the unit's own StateDirectory= may be required (a kernel without sysfs GPIO has no /sys/class/gpio).
  const state = directive('StateDirectory').map((d) => `/var/lib/${d}`)
  for (const p of directive('ReadWritePaths').join(' ').split(/\s+/)) assert.ok(p.startsWith('-') || state.includes(p), `ReadWritePaths ${p} must exist on every Pi, or be "-${p}"`)
  assert.not.ok(/tsx/.test(directive('ExecStart').join(' ')), 'no tsx in ExecStart')
  const [exec] = directive('ExecStart')
  const m = /^\/usr\/bin\/node (\/opt\/pcp-fan)\/(node_modules\/pcp-edge\/dist\/rpi\/examples\/fan-control\.js)$/.exec(exec!)
  assert.ok(m, `ExecStart is plain node on the installed file: ${exec}`)
  assert.is(directive('WorkingDirectory')[0], m![1])
  assert.ok(existsSync(join(app, m![2]!)), 'the file ExecStart names is what --omit=dev installed')
  assert.ok(directive('LoadCredential').some((c) => c.startsWith('pcp-passphrase:')), 'the passphrase comes as the pcp-passphrase credential')
  assert.not.ok(/PCP_PASSPHRASE/.test(directive('Environment').join(' ')), 'not in the environment')
  assert.ok(directive('Wants').join(' ').split(/\s+/).includes('time-sync.target'), 'Wants=time-sync.target')
  assert.ok(directive('After').join(' ').split(/\s+/).includes('time-sync.target'), 'After=time-sync.target')
})

Deploy('cleanup', () => { work.cleanup() })

Deploy.run()
