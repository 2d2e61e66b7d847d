import { fileURLToPath } from 'node:url'

// The repository is the root: nvm-x402 resolves to ../../pkg through the workspace's
// node_modules (a symlink, which Turbopack follows only inside its root).
export default {
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
}
