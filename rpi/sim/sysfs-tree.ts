// STAND-IN: a simulated /sys/class/gpio tree, for running the REAL onoff without GPIO hardware. It lays
// out gpiochipN/{base,label,ngpio} and makes `export`/`unexport` named pipes; serveSysfs() reads the
// numbers written there and creates or removes gpioN/{direction,value,edge,active_low} as the kernel
// would. It must run in another process than onoff: onoff's constructor busy-waits (synchronously) for
// gpioN/ to appear after writing `export`. What it cannot do: refuse a write with an errno (a pipe takes
// any bytes), act on 'high'/'low' written to direction, or raise edge interrupts (epoll rejects regular
// files) — those are covered by SimulatedPi. Only ever point it at a tmpfs in a private mount namespace
// (see sysfs-namespace.ts), never at the real /sys.
import { chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { Socket } from 'node:net'
import { join } from 'node:path'
import type { SysfsChipInfo } from '../chip.js'

export type SimChip = Omit<SysfsChipInfo, 'name'>

/** Pi 4 on a 6.6+ kernel: the header chip at 512, the firmware expander after it. */
export const PI4_CHIPS: SimChip[] = [
  { base: 512, ngpio: 58, label: 'pinctrl-bcm2711' },
  { base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio' }
]

/** Pi 5 on a 6.6+ kernel: the SoC's own controllers first, the header on the RP1 at 571. */
export const PI5_CHIPS: SimChip[] = [
  { base: 512, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
  { base: 544, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
  { base: 571, ngpio: 54, label: 'pinctrl-rp1' }
]

/** Creates the chip directories and the export/unexport pipes under root (an empty tmpfs). */
export function buildSysfsTree (root: string, chips: SimChip[], opts: { gid?: number } = {}): void {
  for (const c of chips) {
    const dir = join(root, `gpiochip${c.base}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'base'), `${c.base}\n`)
    writeFileSync(join(dir, 'ngpio'), `${c.ngpio}\n`)
    writeFileSync(join(dir, 'label'), `${c.label}\n`)
  }
  for (const f of ['export', 'unexport']) {
    const path = join(root, f)
    if (!existsSync(path)) execFileSync('mkfifo', [path])
    // As on Raspberry Pi OS: root and (when a gid is given) group gpio may write, nobody else.
    chmodSync(path, opts.gid === undefined ? 0o200 : 0o220)
    if (opts.gid !== undefined) chownSync(path, -1, opts.gid)
  }
}

export interface SysfsServer {
  close (): void
  /** Writes that name no line (the real kernel answers EINVAL; a pipe cannot, so they are listed here). */
  readonly rejected: string[]
}

/** Serves export/unexport writes under root until close(). */
export function serveSysfs (root: string, chips: SimChip[], opts: { gid?: number } = {}): SysfsServer {
  const rejected: string[] = []
  const inRange = (n: number): boolean => chips.some((c) => n >= c.base && n < c.base + c.ngpio)
  const onExport = (n: number): void => {
    const dir = join(root, `gpio${n}`)
    if (existsSync(dir)) return
    // Files first, then the directory appears whole (rename), so onoff never sees a half-made pin.
    const tmp = join(root, `.gpio${n}.tmp`)
    mkdirSync(tmp)
    for (const [name, content] of [['direction', 'in\n'], ['value', '0\n'], ['edge', 'none\n'], ['active_low', '0\n']]) {
      writeFileSync(join(tmp, name), content)
      chmodSync(join(tmp, name), 0o664)
      // Raspberry Pi OS's udev rule gives these files to group gpio; mirror it so group members can drive them.
      if (opts.gid !== undefined) chownSync(join(tmp, name), -1, opts.gid)
    }
    renameSync(tmp, dir)
  }
  const onUnexport = (n: number): void => { rmSync(join(root, `gpio${n}`), { recursive: true, force: true }) }
  // What a concatenated write can contain: any chip line for export, only exported lines for unexport.
  const sockets = [
    listen(join(root, 'export'), onExport, (n) => inRange(n), rejected),
    listen(join(root, 'unexport'), onUnexport, (n) => existsSync(join(root, `gpio${n}`)), rejected)
  ]
  return { close: () => { for (const s of sockets) s.destroy() }, rejected }
}

function listen (fifo: string, handle: (n: number) => void, valid: (n: number) => boolean, rejected: string[]): Socket {
  // O_RDWR keeps a writer open ourselves, so the pipe never reports EOF between onoff's writes and a
  // writer's open() never blocks waiting for a reader.
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK)
  const sock = new Socket({ fd, readable: true, writable: false })
  sock.on('data', (chunk: Buffer) => {
    // onoff writes bare numbers ("529") with no terminator, and a pipe keeps no write boundaries: two
    // quick unexports arrive as "529539". Split digit runs into valid numbers (longest first), which is
    // unambiguous whenever the chip bases give all numbers the same width (512+, i.e. every 6.6+ kernel).
    for (const run of chunk.toString('latin1').split(/\D+/).filter(Boolean)) {
      const numbers = segment(run, valid)
      if (numbers) for (const n of numbers) handle(n)
      else rejected.push(run)
    }
  })
  sock.on('error', () => { try { closeSync(fd) } catch {} })
  return sock
}

/** Splits a run of digits into numbers accepted by valid(), longest prefix first; null if impossible. */
export function segment (digits: string, valid: (n: number) => boolean): number[] | null {
  if (digits === '') return []
  for (let len = Math.min(digits.length, 6); len > 0; len--) {
    const head = digits.slice(0, len)
    if (head.length > 1 && head[0] === '0') continue
    const n = Number(head)
    if (!valid(n)) continue
    const rest = segment(digits.slice(len), valid)
    if (rest) return [n, ...rest]
  }
  return null
}
