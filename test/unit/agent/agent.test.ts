/**
 * The agent's pass over several files, against a minimal server: a pass that cannot
 * render one file writes none of them, so the set never mixes old and new secrets, and
 * the change reaches every file and the on_change hook once the pass completes.
 */

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAgent } from "../../../cli/agent/agent.ts";
import type { AgentConfig } from "../../../cli/agent/config.ts";
import type { LogFields } from "../../../cli/agent/log.ts";
import { isLoopback } from "../../../cli/commands/connection.ts";
import { waitFor } from "../../support/wait.ts";

async function fileText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

describe("runAgent with several files", () => {
  let dir: string;
  let server: Server;
  let address: string;
  /** What the server answers for each KV path; tests change it while the agent runs. */
  const kv = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "coffer-agent-unit-"));
    server = createServer((request, response) => {
      const path = (request.url ?? "").split("?")[0] ?? "";
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (path === "/v1/auth/token/lookup-self") return send(200, { data: { ttl: 0, renewable: false } });
      const secret = kv.get(path.replace(/^\/v1\//, ""));
      if (secret) return send(200, { data: { data: secret, metadata: { version: 1 } } });
      send(404, { errors: [] });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("writes no file of a pass that fails to render, then all of them and runs on_change", async () => {
    kv.set("secret/data/app/a", { value: "a1" });
    kv.set("secret/data/app/b", { value: "b1" });
    await writeFile(join(dir, "token"), "unit-test-token\n");
    const out = (name: string) => join(dir, "out", name);
    const hookLog = join(dir, "hook.log");
    const config: AgentConfig = {
      address,
      auth: { method: "token", tokenFile: join(dir, "token") },
      secrets: [
        { path: "secret/data/app/a", destination: out("a"), format: "raw", field: "value" },
        { path: "secret/data/app/b", destination: out("b"), format: "raw", field: "value" },
      ],
      refreshIntervalMs: 50,
      readyFile: out(".ready"),
      onChange: {
        command: ["sh", "-c", `cat "${out("a")}" "${out("b")}" >> "${hookLog}"; echo >> "${hookLog}"`],
        timeoutMs: 5_000,
      },
      backoff: { initialMs: 20, maxMs: 50 },
      onceTimeoutMs: 5_000,
    };
    const logs: { level: string; message: string; fields?: LogFields }[] = [];
    const stop = new AbortController();
    const running = runAgent(config, {
      once: false,
      signal: stop.signal,
      log: (level, message, fields) => logs.push({ level, message, fields }),
    });
    try {
      await waitFor("the first render", () => fileText(out(".ready")));
      expect(await fileText(out("a"))).toBe("a1");
      expect(await fileText(out("b"))).toBe("b1");

      // b loses the field its file needs, then a changes: no pass can render b. (In this
      // order, since passes read one secret at a time: a pass that read the old b before
      // the change could otherwise read the new a after it.)
      const failedPasses = (from: number) =>
        logs.slice(from).filter((line) => String(line.fields?.error).includes('no field "value"')).length;
      const mark = logs.length;
      kv.set("secret/data/app/b", { other: "x" });
      await waitFor("a failed pass", () => (failedPasses(mark) >= 1 ? true : undefined));
      const changed = logs.length;
      kv.set("secret/data/app/a", { value: "a2" });
      await waitFor("two failed passes with the new a", () =>
        failedPasses(changed) >= 2 ? true : undefined,
      );
      // Neither file moved: a does not hold the new secret while b holds the old.
      expect(await fileText(out("a"))).toBe("a1");
      expect(await fileText(out("b"))).toBe("b1");
      expect(await fileText(hookLog)).toBeUndefined();

      // Once b can be rendered, both files change in one pass and the hook sees both.
      kv.set("secret/data/app/b", { value: "b2" });
      // The hook appends in two steps: wait for its whole line.
      await waitFor("the hook after the change", async () =>
        (await fileText(hookLog))?.endsWith("\n") ? true : undefined,
      );
      expect(await fileText(out("a"))).toBe("a2");
      expect(await fileText(out("b"))).toBe("b2");
      expect(await fileText(hookLog)).toBe("a2b2\n");
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
    expect(JSON.stringify(logs)).not.toContain("unit-test-token");
  });
});

describe("the plain-http warning's idea of this machine", () => {
  const local = (address: string) => isLoopback(new URL(address).hostname);

  it("is localhost, 127.0.0.0/8 and ::1, in any spelling the URL parser normalizes", () => {
    for (const address of [
      "http://localhost:8200",
      "http://LOCALHOST",
      "http://127.0.0.1",
      "http://127.1.2.3",
    ])
      expect(local(address), address).toBe(true);
    for (const address of ["http://127.1", "http://[::1]:8200", "http://[0:0:0:0:0:0:0:1]"])
      expect(local(address), address).toBe(true);
  });

  it("is not a remote name that starts like a loopback address", () => {
    for (const address of [
      "http://127.example.com",
      "http://10.0.0.1",
      "http://[::2]",
      "http://localhost.example",
    ])
      expect(local(address), address).toBe(false);
  });
});
