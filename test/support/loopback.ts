import type { Server } from "node:http";

/**
 * Starts `server` on an ephemeral port of 127.0.0.1. `close` drops open connections first:
 * SDK clients keep theirs alive, and close() alone would wait for them.
 */
export async function listenOnLoopback(
  server: Server,
  label: string,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`the ${label} has no port`);
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
