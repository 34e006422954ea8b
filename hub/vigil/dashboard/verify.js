// Standalone verifier page: classic scripts only, so it runs from file:// as well as from the hub.
// export-check.js does the work (the chain, and the anchors with anchors.js when roots are given).
const el = (id) => document.getElementById(id)
window.PcpExportCheck.bind({ file: el('file'), roots: el('roots'), crls: el('crls'), ocsp: el('ocsp'), against: el('against') }, el('out'), async () => window.PcpVerifier)
