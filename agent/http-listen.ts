// Listening and closing for the agent's two servers (health/metrics over HTTP, /ids over
// HTTPS): a bind error rejects instead of crashing, and close does not wait for keep-alive
// clients.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

type AnyHttpServer = HttpServer | HttpsServer;

/** Listens on host:port (all addresses by default) and resolves with the port bound. */
export async function listenOn(server: AnyHttpServer, port: number, host = '::'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and drops open connections, resolving once the server has closed. */
export function closeServer(server: AnyHttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
