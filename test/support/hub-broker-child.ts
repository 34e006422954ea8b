// Child process holding only an embedded MQTT broker (hub/broker.ts) on a given port, so a test can kill
// the broker under a running hub and device and start a new one on the same port.
import { startEmbeddedBroker } from '../../hub/broker.js'

const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: Number(process.argv[2]) })
process.stdout.write(`READY ${broker.url}\n`)
process.on('SIGTERM', () => { void broker.close().then(() => process.exit(0)) })
