/**
 * Vault clients may send the LIST method (hvac, curl -X LIST). Node's HTTP parser only
 * knows a fixed set of methods and rejects LIST before any handler runs, handing the raw
 * bytes to 'clientError'. Here those requests are parsed by hand and served by the same
 * app, one per connection. Lambda has no such limit; this is `coffer dev` only.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** The app's fetch; `env` is what @hono/node-server would pass (the raw request path). */
type Fetch = (request: Request, env: { incoming: { url: string } }) => Response | Promise<Response>;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
};

function parseListRequest(raw: string, host: string): Request | undefined {
  const headerEnd = raw.indexOf("\r\n\r\n");
  if (headerEnd === -1) return undefined;
  const [requestLine = "", ...headerLines] = raw.slice(0, headerEnd).split("\r\n");
  const match = /^LIST (\/\S*) HTTP\/1\.[01]$/.exec(requestLine);
  if (!match?.[1]) return undefined;
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return new Request(`http://${headers.get("host") ?? host}${match[1]}`, { method: "LIST", headers });
}

export function acceptListMethod(server: Server, fetch: Fetch, host: string): void {
  server.on("clientError", (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    const raw = error.code === "HPE_INVALID_METHOD" ? error.rawPacket?.toString("latin1") : undefined;
    const request = raw?.startsWith("LIST ") ? parseListRequest(raw, host) : undefined;
    if (!request) {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    void (async () => {
      // The raw path, as the node server hands it over, so "." and ".." segments are refused
      // here too rather than resolved away by the URL parser.
      const rawPath = raw?.split(" ", 3)[1] ?? "";
      const response = await fetch(request, { incoming: { url: rawPath } });
      const body = Buffer.from(await response.arrayBuffer());
      const lines = [`HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? ""}`];
      for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
      lines.push(`content-length: ${body.length}`, "connection: close", "", "");
      socket.end(Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]));
    })().catch(() => socket.destroy());
  });
}
