/** Serving the web UI's files under /ui/: headers, compression, caching, and no build. */
import { describe, expect, it } from "vitest";
import { memoizeUiAssets, readUiAssets, UI_MANIFEST, type UiAssets } from "../../../shared/ui/ui-assets.ts";
import { acceptsGzip, UI_CONTENT_SECURITY_POLICY, uiRoutes } from "../../../shared/ui/ui-routes.ts";

const text = (value: string) => new TextEncoder().encode(value);
const ASSETS: UiAssets = new Map([
  [
    "index.html",
    {
      contentType: "text/html; charset=utf-8",
      body: text("<html>"),
      gzip: text("gz-index"),
      immutable: false,
    },
  ],
  ["main-ABC.js", { contentType: "text/javascript; charset=utf-8", body: text("js"), immutable: true }],
]);

describe("the /ui/ routes", () => {
  const routes = uiRoutes(async () => ASSETS);

  it("serves the index at /ui/ with the security headers and no caching", async () => {
    const reply = await routes.request("/ui/");
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe("<html>");
    expect(reply.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(reply.headers.get("referrer-policy")).toBe("no-referrer");
    expect(reply.headers.get("x-frame-options")).toBe("DENY");
    expect(reply.headers.get("cache-control")).toBe("no-store");
  });

  it("sends the gzip copy to browsers that accept it", async () => {
    const reply = await routes.request("/ui/", { headers: { "Accept-Encoding": "br, gzip" } });
    expect(reply.headers.get("content-encoding")).toBe("gzip");
    expect(await reply.text()).toBe("gz-index");
    expect(reply.headers.get("vary")).toBe("Accept-Encoding");
  });

  it("caches hashed files for good, and answers 404 for anything else", async () => {
    const reply = await routes.request("/ui/main-ABC.js");
    expect(reply.headers.get("cache-control")).toContain("immutable");
    expect((await routes.request("/ui/manifest.json")).status).toBe(404);
    expect((await routes.request("/ui/other.js")).status).toBe(404);
  });

  it("redirects /ui to /ui/", async () => {
    const reply = await routes.request("/ui");
    expect(reply.status).toBe(301);
    expect(reply.headers.get("location")).toBe("/ui/");
  });

  it("says so when there is no UI build", async () => {
    for (const source of [undefined, async () => undefined]) {
      const reply = await uiRoutes(source).request("/ui/");
      expect(reply.status).toBe(404);
      expect(await reply.text()).toContain("not part of this build");
    }
  });

  it("reads gzip preferences as RFC 9110 writes them", () => {
    expect(acceptsGzip("gzip, deflate")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("br")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe("reading a UI build", () => {
  it("refuses a manifest naming a path outside the directory", async () => {
    const files: Record<string, string> = {
      [UI_MANIFEST]: JSON.stringify({
        files: [{ name: "../secret", contentType: "text/plain", immutable: true }],
      }),
    };
    await expect(
      readUiAssets(async (name) => (name in files ? text(files[name] as string) : undefined)),
    ).rejects.toThrow(/bad file name/);
  });

  it("retries a failed load instead of remembering the failure", async () => {
    let calls = 0;
    const source = memoizeUiAssets(async () => {
      calls++;
      if (calls === 1) throw new Error("disk busy");
      return ASSETS;
    });
    await expect(source()).rejects.toThrow("disk busy");
    expect(await source()).toBe(ASSETS);
    expect(await source()).toBe(ASSETS);
    expect(calls).toBe(2);
  });
});
