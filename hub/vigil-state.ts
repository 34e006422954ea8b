// Vigil's state across hub restarts: <data>/vigil.json (written by the hub every minute and at close).
import { join } from 'node:path'
import { readFile, rename } from 'node:fs/promises'
import { writeFileAtomic } from '../runtime/fsutil.js'
import { silentLogger, type Logger } from '../sync/log.js'
import { VigilEngine, type VigilOptions } from './vigil/engine.js'

/**
 * Vigil as the hub left it (<data>/vigil.json), or a fresh engine. Scores are derived state: an unreadable
 * file costs history and open alerts, never events, so the hub starts anyway, but says so.
 */
export async function loadVigil (dataDir: string, options: VigilOptions = {}, logger: Logger = silentLogger): Promise<VigilEngine> {
  const file = join(dataDir, 'vigil.json')
  let text: string
  try { text = await readFile(file, 'utf8') } catch { return new VigilEngine(options) }
  try {
    return VigilEngine.fromJSON(JSON.parse(text), options)
  } catch (err) {
    // Kept aside, not left for the next save (within a minute) to write over: the alerts in it can still
    // be read by hand.
    const aside = `${file}.unreadable-${Date.now()}`
    const kept = await rename(file, aside).then(() => true, () => false)
    logger.child({ component: 'vigil' }).error({ event: 'restore_failed', file, reason: (err as Error).message, ...(kept ? { kept: aside } : {}) },
      `${file} cannot be restored (${(err as Error).message}); Vigil starts from an empty state${kept ? `; the file is kept as ${aside}` : ''}`)
    return new VigilEngine(options)
  }
}

/** What loadVigil restores: the hub writes it every minute and at close. */
export async function saveVigil (dataDir: string, vigil: VigilEngine): Promise<void> {
  await writeFileAtomic(join(dataDir, 'vigil.json'), JSON.stringify(vigil.toJSON()), 0o600)
}
