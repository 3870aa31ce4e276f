/**
 * A TCP relay in front of PostgreSQL that can cut a connection at the worst moment: right
 * after the client's COMMIT has been passed on, before the server's answer comes back. The
 * server commits; the client only sees its connection die and cannot know whether it did.
 * Coffer's own driver talks to it, so the failure arrives exactly as a network would deliver it.
 */
import { connect, createServer, type Socket } from "node:net";

export interface PostgresProxy {
  port: number;
  /** Cuts the next connection that sends a query containing `text`, after passing it on. */
  cutAfter(text: string): void;
  /** How many connections were cut. */
  cuts: number;
  close(): Promise<void>;
}

export async function startPostgresProxy(target: { host: string; port: number }): Promise<PostgresProxy> {
  let armed: string | undefined;
  const sockets = new Set<Socket>();
  const proxy: PostgresProxy = {
    port: 0,
    cuts: 0,
    cutAfter(text) {
      armed = text;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.on("data", (chunk: Buffer) => {
      // A simple-query message: 'Q', length, SQL text.
      if (armed !== undefined && chunk[0] === 0x51 && chunk.toString("utf8").includes(armed)) {
        armed = undefined;
        proxy.cuts++;
        // The server gets the query and a clean end of stream; the client gets nothing back.
        upstream.end(chunk);
        client.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("close", () => upstream.end());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
