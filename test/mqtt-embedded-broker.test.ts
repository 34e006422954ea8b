// hub/broker.ts: starting, port errors, closing, and the MQTT 3.1.1-only fact the protocol design rests on.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, type Server } from 'node:net'
import { connectAsync } from 'mqtt'
import { startEmbeddedBroker, EMBEDDED_PROTOCOL_VERSION } from '../hub/broker.js'
import { PcpError } from '../runtime/errors.js'

const Embedded = suite('hub/broker embedded broker')

function occupy (): Promise<{ server: Server, port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 })
    })
  })
}

Embedded('port 0 listens on a real port and the url is connectable', async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })
  try {
    assert.ok(broker.port > 0)
    assert.is(broker.url, `mqtt://127.0.0.1:${broker.port}`)
    assert.is(broker.protocolVersion, EMBEDDED_PROTOCOL_VERSION)
    const c = await connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 4 })
    assert.ok(c.connected)
    await c.endAsync()
  } finally { await broker.close() }
})

Embedded('a taken port gives PORT_IN_USE naming host and port', async () => {
  const { server, port } = await occupy()
  try {
    const err = await startEmbeddedBroker({ host: '127.0.0.1', port }).then(() => null, (e: unknown) => e)
    assert.instance(err, PcpError)
    const e = err as PcpError
    assert.is(e.code, 'PORT_IN_USE')
    assert.ok(e.message.includes(`127.0.0.1:${port}`), e.message)
    assert.is(e['host' as keyof PcpError], '127.0.0.1')
    assert.is(e['port' as keyof PcpError], port)
    assert.is((e.cause as NodeJS.ErrnoException).code, 'EADDRINUSE')
  } finally { server.close() }
})

Embedded('an address not on this machine gives BROKER_LISTEN_FAILED, not a crash', async () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned here, so bind fails with EADDRNOTAVAIL; no packet is sent.
  const err = await startEmbeddedBroker({ host: '192.0.2.1', port: 0 }).then(() => null, (e: unknown) => e)
  assert.instance(err, PcpError)
  assert.is((err as PcpError).code, 'BROKER_LISTEN_FAILED')
  assert.ok((err as PcpError).message.includes('192.0.2.1'))
})

Embedded('bad arguments are programmer errors', async () => {
  for (const port of [-1, 65536, 1.5]) {
    const err = await startEmbeddedBroker({ port }).then(() => null, (e: unknown) => e)
    assert.instance(err, RangeError, String(port))
  }
})

Embedded('close() disconnects clients, frees the port, and is idempotent', async () => {
  const broker = await startEmbeddedBroker({ port: 0 })
  const c = await connectAsync(broker.url, { reconnectPeriod: 0 })
  const gone = new Promise<void>((resolve) => c.once('close', () => resolve()))
  await Promise.all([broker.close(), broker.close()])
  await gone
  const again = await startEmbeddedBroker({ port: broker.port })
  assert.is(again.port, broker.port)
  await again.close()
})

Embedded('an MQTT 5 CONNECT is refused: the embedded broker is MQTT 3.1.1 only (why PCP avoids MQTT 5 features)', async () => {
  const broker = await startEmbeddedBroker({ port: 0 })
  try {
    const err = await connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 5 }).then(async (c) => { await c.endAsync(); return null }, (e: unknown) => e)
    assert.instance(err, Error)
    assert.match((err as Error).message, /protocol version/i)
  } finally { await broker.close() }
})

Embedded.run()
