// The package's data types are generated from their Rust descriptions
// (types/: serde structs with ts-rs derives) and shipped as wire-types.d.ts,
// which every entry's declarations re-export. Here the built package is held
// to what the Rust says now (`cargo run -p nvm-x402-types --example
// ts-declarations`), type by type with tsc: the same names and, for each, the
// same fields, optionality and types. A field renamed, retyped or made
// optional on either side fails. (types/tests/typescript.rs holds the
// checked-in pkg-template/wire-types.d.ts to the generator byte for byte.)
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/servers.mjs'
import { typecheck } from '../support/tsc.mjs'

const cargo = spawnSync('cargo', ['run', '--quiet', '-p', 'nvm-x402-types', '--example', 'ts-declarations'], { cwd: ROOT, encoding: 'utf8' })
if (cargo.status !== 0) throw new Error(`cargo run --example ts-declarations failed:\n${cargo.stderr}`)
// The generated declarations import their hand-written helpers (JsonValue, BigIntLike, ...) from the package.
const GENERATED = cargo.stdout.replace("from './common.js'", "from 'nvm-x402'")
const NAMES = [...GENERATED.matchAll(/^export interface (\w+)/gm)].map((m) => m[1])

// The official SDK's names (`@nevermined-io/payments`: src/x402/facilitator-api.ts,
// src/common/types.ts, src/x402/delegation-api.ts) that the generated types carry.
const OFFICIAL = [
  'X402PaymentRequired', 'X402Resource', 'X402Scheme', 'X402SchemeExtra', 'X402TokenOptions', 'DelegationConfig',
  'VerifyPermissionsParams', 'SettlePermissionsParams', 'VerifyPermissionsResult', 'SettlePermissionsResult',
  'StartAgentRequest', 'PlanBalance', 'PlanMetadata', 'PlanPriceConfig', 'PlanCreditsConfig', 'AgentMetadata',
  'AgentAPIAttributes', 'CreateDelegationPayload', 'CreateDelegationResponse', 'ListOptions', 'X402PaymentAccepted',
  'NvmAPIResult', 'StripeCheckoutResult', 'PaginationOptions', 'DelegationSummary', 'DelegationListResponse', 'PaymentMethodSummary',
]
// The names this package used before, kept as deprecated aliases: [old, official].
const RENAMED = [
  ['PaymentRequired', 'X402PaymentRequired'],
  ['Resource', 'X402Resource'],
  ['PaymentRequirements', 'X402Scheme'],
  ['PaymentRequirementsExtra', 'X402SchemeExtra'],
  ['VerifyParams', 'VerifyPermissionsParams'],
  ['SettleParams', 'SettlePermissionsParams'],
  ['VerifyResult', 'VerifyPermissionsResult'],
  ['SettleResult', 'SettlePermissionsResult'],
  ['Scheme', 'X402SchemeType'],
  ['Delegation', 'DelegationSummary'],
  ['DelegationList', 'DelegationListResponse'],
  ['PaymentMethod', 'PaymentMethodSummary'],
  ['OrderResult', 'NvmAPIResult'],
  ['X402AccessToken', 'X402PaymentAccepted'],
  ['GetPlansOptions', 'PaginationOptions'],
]
const ENTRIES = ['nvm-x402', 'nvm-x402/asset', 'nvm-x402/agent', 'nvm-x402/agent/asset', 'nvm-x402/mcp', 'nvm-x402/mcp/asset']

/** `Same<A, B>` is `true` when A and B have the same fields, optionality and types, else says how they differ. */
const SAME = `
type Named<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: 0 }
type Optional<T> = { [K in Named<T>]-?: {} extends Pick<T, K> ? K : never }[Named<T>]
/** The keys in one of A and B but not both. */
type Differ<A extends PropertyKey, B extends PropertyKey> = { [K in A | B]: [K] extends [A & B] ? never : K }[A | B]
type Retyped<A, B> = { [K in Named<A> & Named<B>]-?: [A[K]] extends [B[K]] ? ([B[K]] extends [A[K]] ? never : K) : K }[Named<A> & Named<B>]
export type Same<A, B> = [Differ<Named<A>, Named<B>>] extends [never]
  ? [Differ<Optional<A>, Optional<B>>] extends [never]
    ? [Retyped<A, B>] extends [never]
      ? [A] extends [B] ? ([B] extends [A] ? true : 'other fields differ') : 'other fields differ'
      : \`retyped: \${Retyped<A, B> & string}\`
    : \`optional on one side only: \${Differ<Optional<A>, Optional<B>> & string}\`
  : \`on one side only: \${Differ<Named<A>, Named<B>> & string}\`
`

/** A file that compiles when each [generated, shipped] pair of type names agrees. */
function checks(pairs, shipped = 'nvm-x402') {
  return [
    `import type * as S from '${shipped}'`,
    "import type * as G from './generated'",
    "import type { Same } from './same'",
    ...pairs.map(([g, s], i) => `export const pair${i}: Same<G.${g}, S.${s}> = true // ${g}`),
  ].join('\n') + '\n'
}

const check = (generated, pairs, shipped) => typecheck({ 'generated.ts': generated, 'same.ts': SAME, 'checks.ts': checks(pairs, shipped) })

test('the generated data types carry the official SDK names, and every entry exports them', () => {
  assert.ok(NAMES.length >= 20, `only ${NAMES.length} declarations`)
  assert.equal(new Set(NAMES).size, NAMES.length, 'a name declared twice')
  assert.deepEqual(OFFICIAL.filter((n) => !NAMES.includes(n)), [], 'an official name the generator does not declare')
  const files = Object.fromEntries(ENTRIES.map((entry, i) => [`entry${i}.ts`, `import type { ${NAMES.join(', ')} } from '${entry}'\nexport type All = [${NAMES.join(', ')}]\n`]))
  const { status, output } = typecheck(files)
  assert.equal(status, 0, `an entry lacks a data type:\n${output}`)
})

test('what the package ships is what the Rust descriptions say (tsc, type by type)', () => {
  const { status, output } = check(GENERATED, NAMES.map((n) => [n, n]))
  assert.equal(status, 0, `pkg/wire-types.d.ts and the Rust descriptions disagree (regenerate it: see its first lines):\n${output}`)
})

test('the check fails on drift: a field renamed, retyped or made optional is caught, and named', () => {
  const drifts = [
    ['SettlePermissionsResult', 'creditsRedeemed?: string', 'creditsBurned?: string', /"on one side only: creditsBurned"[^\n]*"on one side only: creditsRedeemed"|"on one side only: creditsRedeemed"[^\n]*"on one side only: creditsBurned"/],
    ['VerifyPermissionsParams', /(x402AccessToken): string/, '$1?: string', /"optional on one side only: x402AccessToken"/],
    ['VerifyPermissionsResult', 'isValid: boolean', 'isValid: string', /"retyped: isValid"/],
    ['PlanCreditsConfig', 'amount: BigIntLike', 'amount: string', /"retyped: amount"/],
  ]
  for (const [name, from, to, expected] of drifts) {
    const drifted = GENERATED.replace(from, to)
    assert.notEqual(drifted, GENERATED, `${from} is in the generated ${name}`)
    const { status, output } = check(drifted, [[name, name]])
    assert.notEqual(status, 0, `${name}: the drift went unnoticed`)
    assert.match(output, expected, name)
  }
})

test('the names this package used before still work, as deprecated aliases of the official ones', () => {
  const aliases = [
    "import type * as S from 'nvm-x402'",
    "import type { Same } from './same'",
    ...RENAMED.map(([old, official], i) => `export const alias${i}: Same<S.${old}, S.${official}> = true`),
  ].join('\n')
  const run = typecheck({ 'same.ts': SAME, 'aliases.ts': aliases + '\n' })
  assert.equal(run.status, 0, run.output)
  // Each is marked @deprecated, so editors strike it through and point at the official name.
  const declarations = readFileSync(join(ROOT, 'pkg/common.d.ts'), 'utf8')
  for (const [old, official] of RENAMED) {
    assert.match(declarations, new RegExp(`@deprecated the official SDK's name is \`${official}\`. \\*/\\nexport type ${old} = ${official}\\n`), old)
  }
})
