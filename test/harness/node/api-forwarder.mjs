// The road from the machine into a real node's API server (test/harness/node/real-cluster.ts).
// Started inside the node's network namespace (nsenter --net); the harness hands it, over Node's
// IPC channel, a server it opened on 127.0.0.1 in the machine's root namespace. Each connection
// accepted there is piped to the API server at <host>:<port> (argv) inside the namespace, so a
// kubeconfig on the machine reaches the node without any address or route added outside.
// Exits when the harness goes away.
import { connect } from 'node:net';

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!host || !Number.isInteger(port)) {
  console.error('usage: api-forwarder.mjs <host> <port>');
  process.exit(2);
}

process.on('message', (message, server) => {
  if (message !== 'serve' || !server) return;
  server.on('connection', (client) => {
    const upstream = connect({ host, port });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream).pipe(client);
  });
  console.log(`forwarding connections to ${host}:${port}`);
  process.send?.('serving');
});
process.on('disconnect', () => process.exit(0));
