/**
 * Serves the web UI under /ui/, beside the API under /v1/: the same origin, so the UI's
 * calls to the API need no CORS and its token never leaves the origin.
 *
 * Every UI response carries a strict policy: scripts, styles and connections only from
 * this origin (no inline code, no eval, no third party), no framing, no referrer, no
 * plugins, no form posts, and Trusted Types so no string can become markup or script.
 * The index page is never cached (it names the current build); the files it names carry
 * their content hash and are cached for good.
 */
import { Hono } from "hono";
import type { UiAsset, UiAssetSource } from "./ui-assets.ts";

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": UI_CONTENT_SECURITY_POLICY,
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy":
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-write=(self)",
};

const INDEX = "index.html";

/** Whether the request's Accept-Encoding allows gzip (and does not refuse it with q=0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function serve(asset: UiAsset, acceptEncoding: string | undefined): Response {
  const headers = new Headers(UI_SECURITY_HEADERS);
  headers.set("Content-Type", asset.contentType);
  headers.set("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-store");
  headers.set("Vary", "Accept-Encoding");
  let body = asset.body;
  if (asset.gzip && acceptsGzip(acceptEncoding)) {
    headers.set("Content-Encoding", "gzip");
    body = asset.gzip;
  }
  headers.set("Content-Length", String(body.length));
  return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
}

function plain(status: number, text: string): Response {
  const headers = new Headers(UI_SECURITY_HEADERS);
  headers.set("Content-Type", "text/plain; charset=utf-8");
  headers.set("Cache-Control", "no-store");
  return new Response(text, { status, headers });
}

/** GET /ui/ and the files of the UI build; without a build, a 404 that says so. */
export function uiRoutes(source: UiAssetSource | undefined): Hono {
  const routes = new Hono();
  async function file(name: string, acceptEncoding: string | undefined): Promise<Response> {
    const assets = await source?.();
    if (!assets) return plain(404, "The web UI is not part of this build.\n");
    const asset = assets.get(name);
    return asset ? serve(asset, acceptEncoding) : plain(404, "Not found.\n");
  }
  routes.get("/ui", (c) => c.redirect("/ui/", 301));
  routes.get("/ui/", (c) => file(INDEX, c.req.header("accept-encoding")));
  routes.get("/ui/:name", (c) => file(c.req.param("name"), c.req.header("accept-encoding")));
  return routes;
}
