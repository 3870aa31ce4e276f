/**
 * Vault clients send the LIST method (the vault CLI, hvac, curl -X LIST). Node's HTTP
 * parser knows a fixed set of methods and rejects LIST before any handler runs. So the dev
 * server reads each connection through a RequestFramer, which renames LIST to a stand-in
 * Node knows; Node's parser then parses every request (fragmented, pipelined or kept
 * alive alike), and the request reaches the app as LIST again. Lambda has no such limit;
 * this is `coffer dev` only.
 *
 * The URL the app sees is built from the request target alone: the Host header is
 * replaced by the address the server listens on, so no header can change the route.
 */
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Duplex } from "node:stream";
import { createRequestFramer, LIST_STAND_IN, type RequestFramer } from "./request-framing.ts";

/** How long a closed connection may take to hand its last answer to a peer that does not read. */
const CLOSE_GRACE_MS = 10_000;

const framers = new WeakMap<object, RequestFramer>();

/** The socket as Node's HTTP parser will read it: its bytes through a framer, everything else as is. */
function framedConnection(socket: Socket): Duplex {
  const framer = createRequestFramer();
  const connection = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      // As Node's destroySoon() does for the sockets it owns: once the last bytes have left,
      // the connection is over, whether or not the peer closes its side.
      socket.end(() => {
        callback();
        socket.destroy();
      });
    },
    destroy(error, callback) {
      if (!socket.destroyed) {
        // Close once the last answer (a 400, a 408) has left; read nothing more meanwhile,
        // and do not wait forever for a peer that does not read.
        socket.pause();
        socket.setTimeout(CLOSE_GRACE_MS, () => socket.destroy());
        if (socket.writableFinished) socket.destroy();
        else socket.once("finish", () => socket.destroy()).end();
      }
      callback(error);
    },
  });
  framers.set(connection, framer);

  // What Node's HTTP server and the app ask of a socket beyond a stream.
  Object.defineProperties(connection, {
    remoteAddress: { get: () => socket.remoteAddress },
    remotePort: { get: () => socket.remotePort },
    remoteFamily: { get: () => socket.remoteFamily },
    localAddress: { get: () => socket.localAddress },
    localPort: { get: () => socket.localPort },
    setTimeout: {
      value: (ms: number, callback?: () => void) => {
        socket.setTimeout(ms);
        if (callback) connection.once("timeout", callback);
        return connection;
      },
    },
  });

  const deliver = (pieces: Buffer[]) => {
    for (const piece of pieces) if (!connection.push(piece)) socket.pause();
  };
  socket.on("data", (chunk: Buffer) => deliver(framer.push(chunk)));
  socket.on("end", () => {
    deliver(framer.flush());
    connection.push(null);
  });
  socket.on("timeout", () => connection.emit("timeout"));
  socket.on("error", (error) => connection.destroy(error));
  socket.on("close", () => connection.destroy());
  return connection;
}

function authorityOf(server: Server): string {
  const address = server.address() as AddressInfo | null;
  if (!address) return "localhost";
  return address.family === "IPv6"
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

/** Makes `server` accept LIST; call it before the server listens. */
export function acceptListMethod(server: Server): void {
  // The listeners Node's HTTP server set up to parse each new connection.
  const parse = server.listeners("connection") as ((connection: Duplex) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    const connection = framedConnection(socket);
    for (const listener of parse) listener.call(server, connection);
  });

  server.prependListener("request", (request: IncomingMessage) => {
    request.headers.host = authorityOf(server);
    const framer = framers.get(request.socket);
    const wasList = framer?.nextRequestWasList();
    if (!wasList) return;
    // The framer and the parser disagree on where requests start: trust neither.
    if (request.method !== LIST_STAND_IN) request.socket.destroy();
    else request.method = "LIST";
  });
}
