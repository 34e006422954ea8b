// pcp-edge/rpi: the Raspberry Pi bridge. Importing it never loads onoff (an optional peer) or the gpiochip addon; only
// constructing an AuditedGpio on the default backend does.
export { AuditedGpio, configureGpioAudit, type AuditedGpioOptions } from './gpio.js'
export { AuditedPiAgent, type ActionGate, type PiAgentOptions, type Heartbeat } from './agent.js'
export { invalidReading, type ReadFn, type SampleOptions, type SampleStats, type Sampler, type SignalSource, type StopReason } from './sampler.js'
export { onoffBackend, loadOnoff, type GpioBackend, type OnoffBackendOptions, type OnoffLikeClass, type OnoffLikeGpio, type BinaryValue, type Direction, type Edge, type GpioOptions, type ValueCallback, type GpioEdgeEvent } from './backend.js'
export { chardevBackend, defaultBackend, type CharDevBackendOptions } from './chardev/backend.js'
export type { Bias, EventClock } from './chardev/line.js'
export { resolveBcmPin, resolveOnChip, listGpioChips, pickHeaderChip, checkExportAccess, HEADER_CHIP_LABELS, SYSFS_GPIO_ROOT, type GpioChipInfo, type SysfsChipInfo, type PinResolution, type ResolveOptions } from './chip.js'
export { readSystemMetrics, readPlatformInfo, type SystemMetrics, type PlatformInfo, type SystemSource } from './system.js'
export { hashSalted } from './audit.js'
export { SimulatedPi, type SimulatedPiOptions } from './sim/simulated-pi.js'
export { RpiErrorCodes, type RpiErrorCode } from './errors.js'
