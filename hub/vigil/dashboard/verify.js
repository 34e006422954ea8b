// Standalone verifier page: classic scripts only, so it runs from file:// as well as from the hub.
document.getElementById('file').addEventListener('change', async (e) => {
  const out = document.getElementById('result')
  const file = e.target.files[0]
  if (!file) return
  const v = window.PcpVerifier
  let r
  try { r = v.verifyAuditExport(v.parseJson(await file.text(), file.name)) } catch (err) { r = { usable: false, reason: err.message } }
  if (!r.usable) { out.className = 'error'; out.textContent = 'NOT AN AUDIT EXPORT: ' + r.reason; return }
  const rep = r.report
  const lines = [rep.valid ? 'VALID' : 'INVALID', 'agent_id ' + rep.agent_id, rep.event_count + ' events', 'chain_integrity_hash ' + rep.chain_integrity_hash]
  for (const x of rep.errors) lines.push(x.code + ' (event ' + x.index + '): ' + x.message)
  out.className = rep.valid ? 'ok' : 'error'
  out.textContent = lines.join('\n')
})
