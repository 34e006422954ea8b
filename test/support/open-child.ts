// Child process that tries to open an agent and reports the outcome as one JSON line.
import { Agent } from '../../runtime/index.js'
const [home, name] = process.argv.slice(2)
try {
  const a = await Agent.open({ name: name! }, { home: home! })
  process.stdout.write(JSON.stringify({ ok: true, agentId: a.agentId }) + '\n')
  await a.close()
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, code: (err as { code?: string }).code, message: (err as Error).message }) + '\n')
}
