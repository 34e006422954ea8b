// Child process for the hub fault tests: runs a real Hub (embedded broker on the given port, or an
// external broker) and prints "READY <json>" once it listens. The parent SIGKILLs it mid-stream and
// starts another on the same data directory; SIGTERM closes it cleanly.
import { pino } from 'pino'
import { Hub } from '../../hub/hub.js'

const opts = JSON.parse(process.argv[2]!) as { dataDir: string, port?: number, mqttUrl?: string, prefix?: string, approval?: 'auto' | 'manual' }
const hub = await Hub.start({ ...opts, workers: 2, logger: pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true })) })
process.stdout.write(`READY ${JSON.stringify({ url: hub.mqttUrl, hubAgentId: hub.agent.agentId })}\n`)
setInterval(() => process.stdout.write(`STATS ${JSON.stringify(hub.stats())}\n`), 200).unref()
process.on('SIGTERM', () => { void hub.close().then(() => process.exit(0)) })
