// The three shipped profiles (trustgate.md §11). They are YAML files next to this module; a bundle must
// copy hub/trustgate/profiles/*.yaml alongside (scripts/build.mjs).
import { fileURLToPath } from 'node:url'
import { loadPolicy } from '../../policy/load.js'
import type { LoadedPolicy } from '../../policy/types.js'

export const PROFILE_NAMES = ['anssi_strict', 'nist_balanced', 'ai_act_high_risk'] as const
export type ProfileName = typeof PROFILE_NAMES[number]

export function profilePath (name: ProfileName): string {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) throw new RangeError(`"name" expected one of ${PROFILE_NAMES.join(', ')}, got ${String(name)}`)
  return fileURLToPath(new URL(`./profiles/${name}.yaml`, import.meta.url))
}

export function loadProfile (name: ProfileName): LoadedPolicy {
  return loadPolicy(profilePath(name))
}
