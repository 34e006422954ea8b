// What a Pi can say about itself: model, CPU temperature, load, memory, disk, uptime. Read from /proc and
// /sys directly (no psutil equivalent needed, nothing native); the roots are injectable so tests feed a
// fake tree and the same code runs on a laptop, where the Pi-only fields come back null.
import { readFile, statfs } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

export interface SystemSource {
  /** Default /proc. */
  procRoot?: string
  /** Default /sys. */
  sysRoot?: string
  /** Filesystem whose usage is reported (where the chain is stored). Default /. */
  diskPath?: string
}

/** Stamped as the rpi_system_metrics payload; null where this machine has no such source. */
export interface SystemMetrics {
  cpu_temp_c: number | null
  load_1: number
  load_5: number
  load_15: number
  cpu_count: number
  mem_total_mib: number | null
  mem_available_mib: number | null
  mem_used_percent: number | null
  disk_total_mib: number | null
  disk_free_mib: number | null
  disk_used_percent: number | null
  uptime_sec: number | null
  process_rss_mib: number
}

export interface PlatformInfo {
  is_rpi: boolean
  model: string | null
  platform: string
  arch: string
  node: string
  kernel: string
}

const round = (x: number, places = 1): number => { const f = 10 ** places; return Math.round(x * f) / f }
const mib = (bytes: number): number => round(bytes / 1048576, 1)

async function text (path: string): Promise<string | null> {
  try { return await readFile(path, 'utf8') } catch { return null }
}

export async function readSystemMetrics (src: SystemSource = {}): Promise<SystemMetrics> {
  const proc = src.procRoot ?? '/proc'
  const sys = src.sysRoot ?? '/sys'
  const [temp, loadavg, meminfo, uptime, disk] = await Promise.all([
    text(join(sys, 'class/thermal/thermal_zone0/temp')),
    text(join(proc, 'loadavg')),
    text(join(proc, 'meminfo')),
    text(join(proc, 'uptime')),
    statfs(src.diskPath ?? '/').catch(() => null)
  ])
  // thermal_zone0 is the SoC sensor on every Pi, in millidegrees Celsius.
  const milli = temp === null ? NaN : Number(temp.trim())
  const loads = loadavg?.trim().split(/\s+/).slice(0, 3).map(Number) ?? os.loadavg()
  const kb = (key: string): number | null => {
    const m = meminfo === null ? null : new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)
    return m ? Number(m[1]) * 1024 : null
  }
  const total = kb('MemTotal')
  // MemAvailable (kernel 3.14+) counts reclaimable cache; MemFree alone would make every Pi look full.
  const avail = kb('MemAvailable') ?? kb('MemFree')
  const diskTotal = disk ? disk.blocks * disk.bsize : null
  const diskFree = disk ? disk.bavail * disk.bsize : null
  const up = uptime === null ? NaN : Number(uptime.trim().split(/\s+/)[0])
  return {
    cpu_temp_c: Number.isFinite(milli) ? round(milli / 1000) : null,
    load_1: round(loads[0] ?? 0, 2),
    load_5: round(loads[1] ?? 0, 2),
    load_15: round(loads[2] ?? 0, 2),
    cpu_count: os.cpus().length,
    mem_total_mib: total === null ? null : mib(total),
    mem_available_mib: avail === null ? null : mib(avail),
    mem_used_percent: total && avail !== null ? round(100 * (1 - avail / total)) : null,
    disk_total_mib: diskTotal === null ? null : mib(diskTotal),
    disk_free_mib: diskFree === null ? null : mib(diskFree),
    disk_used_percent: diskTotal && diskFree !== null ? round(100 * (1 - diskFree / diskTotal)) : null,
    uptime_sec: Number.isFinite(up) ? Math.round(up) : null,
    process_rss_mib: mib(process.memoryUsage.rss())
  }
}

export function readPlatformInfo (src: SystemSource = {}): PlatformInfo {
  let model: string | null = null
  try {
    // The device-tree model string ends with a NUL byte.
    model = readFileSync(join(src.procRoot ?? '/proc', 'device-tree/model'), 'utf8').replace(/\0+$/, '').trim() || null
  } catch {}
  return {
    is_rpi: model !== null && model.includes('Raspberry Pi'),
    model,
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    kernel: os.release()
  }
}
