// app.js served by Deno.serve on 127.0.0.1: `deno run --allow-net=127.0.0.1 deno-server.js '<config JSON>'`
// (the config: app.js's, plus `port`). Prints `listening on <url>` once it accepts.
import { app } from './app.js'

const { port, ...config } = JSON.parse(Deno.args[0])
Deno.serve({ hostname: '127.0.0.1', port, onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}/`) }, app(config))
