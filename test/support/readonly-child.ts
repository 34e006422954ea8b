// Child of test/store-readonly.test.ts: run with <home> bind-mounted read-only in a private mount
// namespace. Opens the agent and a reader on it and prints what each was told.
import { Agent, openAgentReader } from '../../runtime/index.js'

const [home] = process.argv.slice(2) as [string]
const told = (e: unknown): { code: string, file?: string, message: string } => ({ code: (e as { code: string }).code, file: (e as { file?: string }).file, message: (e as Error).message })
const out: Record<string, unknown> = {}
try { const a = await Agent.open({ name: 'd' }, { home }); out.agent = { opened: a.head?.seq ?? null }; await a.close() } catch (e) { out.agent = told(e) }
try { const r = await openAgentReader(home, 'd'); out.reader = { opened: r.head?.seq ?? null }; await r.close() } catch (e) { out.reader = told(e) }
console.log(JSON.stringify(out))
