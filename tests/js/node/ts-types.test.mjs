// The package's TypeScript data types agree with the wire shapes described
// once in Rust (types/: serde structs, also ts-rs derives). The declarations
// ts-rs prints (`cargo run -p nvm-x402-types --example ts-declarations`) are
// compiled against pkg/index.d.ts: for each pair, a value of the wire shape
// must be a value of the declared type (field names, optionality, types), and
// the declared type may name no field the wire lacks. A field renamed,
// retyped or made optional on either side fails this test.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { ROOT } from '../support/servers.mjs'
import { typecheck } from '../support/tsc.mjs'

const cargo = spawnSync('cargo', ['run', '--quiet', '-p', 'nvm-x402-types', '--example', 'ts-declarations'], { cwd: ROOT, encoding: 'utf8' })
if (cargo.status !== 0) throw new Error(`cargo run --example ts-declarations failed:\n${cargo.stderr}`)
const WIRE = "import type { JsonValue, JsonObject, AccessLimit } from 'nvm-x402'\n" + cargo.stdout

// [wire shape, the index.d.ts type users see it as]
const PAIRS = [
  ['PaymentRequired', 'PaymentRequired'],
  ['Resource', 'Resource'],
  ['PaymentRequirements', 'PaymentRequirements'],
  ['Extra', 'PaymentRequirementsExtra'],
  ['TokenOptions', 'X402TokenOptions'],
  ['DelegationConfig', 'DelegationConfig'],
  ['MintResponse', 'AccessTokenResult'],
  ['VerifyRequest', 'VerifyParams'],
  ['SettleRequest', 'SettleParams'],
  ['VerifyResponse', 'VerifyResult'],
  ['AgentRequest', "NonNullable<D.VerifyResult['agentRequest']>"],
  ['PlanBalance', 'PlanBalance'],
  ['SettleResponse', 'SettleResult'],
  ['PlanMetadata', 'PlanMetadata'],
  ['PriceConfig', 'PlanPriceConfig'],
  ['PriceConfig', 'PriceConfigResult'],
  ['CreditsConfig', 'PlanCreditsConfig'],
  ['AgentMetadata', 'AgentMetadata'],
  ['AgentApiAttributes', 'AgentAPIAttributes'],
  ['CreateDelegation', 'CreateDelegationPayload'],
  ['CreatedDelegation', "Awaited<ReturnType<D.Payments['delegation']['createDelegation']>>"],
  ['PlansQuery', 'GetPlansOptions'],
  ['DelegationsQuery', "NonNullable<Parameters<D.Payments['delegation']['listDelegations']>[0]>"],
  ['PaymentMethodsQuery', "NonNullable<Parameters<D.Payments['delegation']['listPaymentMethods']>[0]>"],
]
// Request bodies the package builds itself: users never hold them.
const WIRE_ONLY = ['MintRequest', 'MintAccepted', 'MintExtra', 'RegisterPlanRequest', 'FiatPaymentRequest', 'RegisterAgentRequest', 'RegisterAgentAndPlanRequest', 'PlanPart', 'AgentPart']

function checks(pairs) {
  const declared = (d) => (/^[A-Z]\w*$/.test(d) ? `D.${d}` : d)
  return [
    "import type * as D from 'nvm-x402'",
    "import type * as W from './wire'",
    '/** Named fields (index signatures left out). */',
    'type Named<T> = keyof { [K in keyof T as string extends K ? never : K]: 0 }',
    'type Missing<Wire, Declared> = Exclude<Named<Declared>, Named<Wire>>',
    'type Agrees<Wire, Declared> = [Wire] extends [Declared]',
    '  ? [Missing<Wire, Declared>] extends [never] ? true : { declaredButNotOnTheWire: Missing<Wire, Declared> }',
    '  : { wireValueDoesNotFitTheDeclaredType: Wire }',
    ...pairs.map(([w, d], i) => `export const pair${i}: Agrees<W.${w}, ${declared(d)}> = true // ${w} -> ${d}`),
  ].join('\n') + '\n'
}

test('ts-rs declares every wire shape, and each is paired with an index.d.ts type or is a body only the package builds', () => {
  const names = [...WIRE.matchAll(/^export type (\w+)/gm)].map((m) => m[1])
  assert.ok(names.length >= 25, `only ${names.length} declarations`)
  const classified = new Set([...PAIRS.map(([w]) => w), ...WIRE_ONLY])
  assert.deepEqual(names.filter((n) => !classified.has(n)), [], 'a wire shape with no index.d.ts counterpart')
  assert.deepEqual([...classified].filter((n) => !names.includes(n)), [], 'a pair names a shape ts-rs does not declare')
})

test('index.d.ts agrees with the wire shapes (tsc)', () => {
  const { status, output } = typecheck({ 'wire.ts': WIRE, 'checks.ts': checks(PAIRS) })
  assert.equal(status, 0, `index.d.ts and the Rust descriptions disagree:\n${output}`)
})

test('the check fails on drift: a wire field renamed, or made optional, is caught', () => {
  const renamed = WIRE.replace('creditsRedeemed?: string', 'creditsBurned?: string')
  assert.notEqual(renamed, WIRE)
  const one = typecheck({ 'wire.ts': renamed, 'checks.ts': checks([['SettleResponse', 'SettleResult']]) })
  assert.notEqual(one.status, 0)
  assert.match(one.output, /declaredButNotOnTheWire: "creditsRedeemed"/)
  const optional = WIRE.replace(/(x402AccessToken): string/, '$1?: string')
  assert.notEqual(optional, WIRE)
  const two = typecheck({ 'wire.ts': optional, 'checks.ts': checks([['VerifyRequest', 'VerifyParams']]) })
  assert.notEqual(two.status, 0)
  assert.match(two.output, /wireValueDoesNotFitTheDeclaredType/)
})
