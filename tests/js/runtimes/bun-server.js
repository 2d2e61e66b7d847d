// app.js served by Bun.serve on 127.0.0.1: `bun bun-server.js '<config JSON>'` (the config:
// app.js's, plus `port`). Prints `listening on <url>` once it accepts.
import { app } from './app.js'

const { port, ...config } = JSON.parse(Bun.argv[2])
const server = Bun.serve({ hostname: '127.0.0.1', port, fetch: app(config) })
console.log(`listening on ${server.url}`)
