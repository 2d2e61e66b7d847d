// Node.js (and Deno, Bun): read the .wasm next to this file and instantiate it synchronously.
import { readFileSync } from 'node:fs'
import { initSync } from './nvm_x402.js'

initSync({ module: readFileSync(new URL('./nvm_x402_bg.wasm', import.meta.url)) })

export * from './core.js'
