// A PRIVATE Mosquitto for the TLS tests: a child process on a free 127.0.0.1 port with a generated
// config (TLS listener requiring client certificates, password file, no anonymous access, no
// persistence), logging to the test's temp dir. The system broker (if any, on :1883) is never touched:
// this instance reads only the files written here. Also finds the tools and says why when one is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { delimiter, join } from 'node:path'
import { freePort } from './hub-helpers.js'
import type { TestPki } from './tls-pki.js'

/** Finds an executable on PATH, or in the sbin directories Debian puts mosquitto in (not on every user's PATH). */
export function findTool (name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const d of dirs) {
    if (!d) continue
    const p = join(d, name)
    try { accessSync(p, constants.X_OK); return p } catch {}
  }
  return null
}

export interface TlsTools { openssl: string, mosquitto: string, mosquittoPasswd: string }

/** The three tools, or the reason the TLS tests cannot run here. */
export function tlsTools (): { ok: true, tools: TlsTools } | { ok: false, why: string } {
  const openssl = findTool('openssl'); const mosquitto = findTool('mosquitto'); const mosquittoPasswd = findTool('mosquitto_passwd')
  const missing = [!openssl && 'openssl', !mosquitto && 'mosquitto', !mosquittoPasswd && 'mosquitto_passwd'].filter(Boolean)
  if (missing.length) return { ok: false, why: `${missing.join(', ')} not installed (apt-get install openssl mosquitto)` }
  const v = spawnSync(openssl!, ['version'], { encoding: 'utf8' })
  if (v.status !== 0) return { ok: false, why: `openssl does not run: ${v.stderr || v.error?.message}` }
  return { ok: true, tools: { openssl: openssl!, mosquitto: mosquitto!, mosquittoPasswd: mosquittoPasswd! } }
}

export interface MosquittoUser { username: string, password: string }

export interface PrivateMosquitto {
  readonly url: string
  readonly port: number
  readonly proc: ChildProcess
  readonly logFile: string
  log (): string
  /** Waits (up to `ms`) for a log line matching `re` after the first `from` characters. */
  waitLog (re: RegExp, ms?: number, from?: number): Promise<string>
  /** SIGTERM, then SIGKILL after 2 s. Idempotent. */
  stop (): Promise<void>
  /** Synchronous kill, for a process 'exit' handler. */
  killNow (): void
}

export async function startMosquitto (dir: string, tools: TlsTools, pki: TestPki, users: MosquittoUser[]): Promise<PrivateMosquitto> {
  const passwd = join(dir, 'mosquitto.passwd')
  users.forEach((u, i) => {
    const args = i === 0 ? ['-b', '-c', passwd, u.username, u.password] : ['-b', passwd, u.username, u.password]
    const r = spawnSync(tools.mosquittoPasswd, args, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`mosquitto_passwd exited ${r.status}: ${r.stderr || r.stdout}`)
  })
  let lastError = ''
  // A free port can be taken between freePort() and mosquitto's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const logFile = join(dir, `mosquitto-${port}.log`)
    const conf = join(dir, `mosquitto-${port}.conf`)
    writeFileSync(conf, [
      // Started as root (as the tests are in CI), mosquitto switches to the "mosquitto" user and then
      // cannot read the 0700 temp dir; naming the current user keeps it as it is (ignored when not root).
      `user ${userInfo().username}`,
      'per_listener_settings false',
      'allow_anonymous false',
      `password_file ${passwd}`,
      'persistence false',
      `log_dest file ${logFile}`,
      // Not 'all': debug adds every PUBLISH/PINGREQ, which the tests do not read.
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      `listener ${port} 127.0.0.1`,
      `cafile ${pki.ca.cert}`,
      `certfile ${pki.server.cert}`,
      `keyfile ${pki.server.key}`,
      'require_certificate true',
      'use_identity_as_username false',
      ''
    ].join('\n'))
    const proc = spawn(tools.mosquitto, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr!.on('data', (d) => { stderr += String(d) })
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
    proc.unref() // never keeps the test process alive; killNow() on exit makes sure it does not outlive it
    ;(proc.stderr as unknown as { unref?: () => void }).unref?.()
    const log = (): string => existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
    const waitLog = async (re: RegExp, ms = 5000, from = 0): Promise<string> => {
      const deadline = Date.now() + ms
      for (;;) {
        const text = log().slice(from)
        const m = re.exec(text)
        if (m) return m[0]
        if (Date.now() > deadline) throw new Error(`mosquitto log: no line matching ${re} after ${ms} ms; log since offset ${from}:\n${text.slice(-2000)}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    }
    const killNow = (): void => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') }
    let stopping: Promise<void> | undefined
    const broker: PrivateMosquitto = {
      url: `mqtts://127.0.0.1:${port}`, port, proc, logFile, log, waitLog, killNow,
      stop () {
        stopping ??= (async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return
          proc.kill('SIGTERM')
          const t = setTimeout(killNow, 2000)
          await exited
          clearTimeout(t)
        })()
        return stopping
      }
    }
    const ready = await Promise.race([
      waitLog(/Opening ipv4 listen socket on port \d+/, 5000).then(async () => { await waitLog(/mosquitto version \S+ running/, 5000); return true }),
      exited.then(() => false)
    ]).catch((err: Error) => { lastError = err.message; return false })
    if (ready) return broker
    killNow()
    await exited
    lastError = `mosquitto did not start on port ${port} (exit ${String(proc.exitCode ?? proc.signalCode)}): ${stderr.trim()} ${log().trim().slice(-1000)}`
    if (!/in use/i.test(lastError)) break
  }
  throw new Error(`cannot start a private mosquitto: ${lastError}`)
}
