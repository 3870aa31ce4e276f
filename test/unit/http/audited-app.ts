/**
 * The app on real adapters (an SQLite file, a local root key), with an audit writer the
 * test controls: it records every line and can be made to fail, as an audit device that
 * is full or unreachable does. The whole table can be snapshot, to prove a request
 * changed nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Hono } from "hono";
import { createApp } from "../../../shared/app.ts";
import { type Broker, createBroker } from "../../../shared/broker.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { ENGINES } from "../../../shared/registry.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { type ApiCall, apiCaller } from "../../support/http.ts";

export interface AuditedApp {
  broker: Broker;
  app: Hono;
  rootToken: string;
  /** Calls with the root token unless another is given. */
  call: ApiCall;
  /** Every audit line written, as written. */
  lines: string[];
  // biome-ignore lint/suspicious/noExplicitAny: records are checked field by field.
  records(): any[];
  /** While true, every audit write throws. */
  writerFails: boolean;
  /** Called with each line as it is written, before the writer returns. */
  onLine?: (line: string) => void;
  /** Every item of the table, in key order. */
  table(): unknown[];
  close(): Promise<void>;
}

export async function openAuditedApp(options: { hashNonStrings?: boolean } = {}): Promise<AuditedApp> {
  const dir = mkdtempSync(join(tmpdir(), "coffer-audited-"));
  const path = join(dir, "coffer.db");
  const lines: string[] = [];
  const subject: Pick<AuditedApp, "writerFails" | "onLine"> = { writerFails: false };
  const broker = await createBroker({
    store: openSqliteStore({ path }),
    storage: "sqlite",
    keyProvider: createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32))),
    engines: ENGINES,
    auditWriters: [
      (line) => {
        if (subject.writerFails) throw new Error("audit device unavailable");
        subject.onLine?.(line);
        lines.push(line);
      },
    ],
    auditHashNonStrings: options.hashNonStrings,
    log: () => {},
  });
  const { rootToken } = await initialize(broker);
  const app = createApp(broker, { logError: () => {} });
  const disk = new Database(path, { readonly: true });
  const select = disk.prepare("SELECT pk, sk, attrs FROM items ORDER BY pk, sk");
  return Object.assign(subject, {
    broker,
    app,
    rootToken,
    call: apiCaller(app, rootToken),
    lines,
    records: () => lines.map((line) => JSON.parse(line)),
    table: () => select.all(),
    async close() {
      disk.close();
      await broker.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** `{"<field>": [[[...]]]}` nested `depth` levels below the field. */
export function nestedBody(depth: number, fields: Record<string, unknown> = {}): string {
  const prefix = JSON.stringify(fields).slice(0, -1);
  const separator = Object.keys(fields).length > 0 ? "," : "";
  return `${prefix}${separator}"nested":${"[".repeat(depth)}${"]".repeat(depth)}}`;
}
