// Shared by the test/rpi-*.test.ts files (not a suite itself): a real Agent on a fresh temp home, with
// a mirror of what it stamped for quick assertions; verify() is the Agent's own verification of the
// stored chain.
import { Agent, type AissEvent, type ChainReport, type JsonValue, type Stamper } from '../runtime/index.js'
import { tmpDir } from './helpers.js'

export interface TestChain extends Stamper {
  readonly agent: Agent
  readonly home: string
  readonly events: AissEvent[]
  verify (): Promise<ChainReport>
  types (): string[]
  payloads (type: string): Array<Record<string, JsonValue>>
  /** Close the store so every later stamp fails (STORE_CLOSED), as a full disk or a dead store would. */
  breakStore (): Promise<void>
  close (): Promise<void>
}

export async function openTestChain (name = 'pi-test'): Promise<TestChain> {
  const tmp = tmpDir('pcp-rpi-test-')
  const home = tmp.path
  const agent = await Agent.open({ name }, { home })
  const events: AissEvent[] = []
  return {
    agent,
    home,
    agentId: agent.agentId,
    events,
    async stamp (eventType, payload = {}) {
      const e = await agent.stamp(eventType, payload)
      events.push(e)
      return e
    },
    verify: () => agent.verify(),
    types: () => events.map((e) => String(e.payload.event_type)),
    payloads: (type) => events.filter((e) => e.payload.event_type === type).map((e) => e.payload as Record<string, JsonValue>),
    breakStore: () => agent.close(),
    close: async () => { await agent.close().catch(() => {}); tmp.cleanup() }
  }
}
