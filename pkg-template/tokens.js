// payments-py's v3 token helpers, nvm-x402's only (build.sh): the core reads the token or the error's code. Never throw.
import { ensureSync } from './loader.js'
import { callSync } from './nvm_x402.js'

const read = (name) => (value) => {
  ensureSync()
  return JSON.parse(callSync(name, JSON.stringify([typeof value === 'string' ? value : null])))
}
export const detectAccessTokenVersion = /* @__PURE__ */ read('detectAccessTokenVersion')
export const isSingleUseAccessToken = /* @__PURE__ */ read('isSingleUseAccessToken')
const alreadyUsed = /* @__PURE__ */ read('isAccessTokenAlreadyUsed')
export const isAccessTokenAlreadyUsed = (error) => alreadyUsed(error?.code)
