/**
 * A broker for the benchmark over any store: the product's engines plus the lease test
 * engine (mounted by the caller), a local root key, a clock the benchmark can move
 * forward, and an audit writer that counts the bytes it would ship instead of keeping
 * them (a sweep of 100,000 leases writes 100,000 records). Lease log warnings and errors
 * are counted: a sweep that logs one did not go as measured.
 */
import { type Broker, createBroker } from "../../shared/broker.ts";
import { createLocalKeyProvider } from "../../shared/crypto/local.ts";
import { nodeSymmetricCrypto } from "../../shared/crypto/symmetric.node.ts";
import { ENGINES } from "../../shared/registry.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { createLeaseTestEngine, type LeaseTestEngine } from "../../test/support/lease-test-engine.ts";
import { runningClock, type TestClock } from "../../test/support/test-clock.ts";

export interface BenchBroker {
  broker: Broker;
  engine: LeaseTestEngine;
  clock: TestClock;
  /** Audit bytes written (a line and its newline each), and records. */
  audit: { bytes: number; records: number };
  /** Lease log lines at warn or error. */
  leaseProblems: string[];
}

export async function openBenchBroker(store: ItemStore, storage: string): Promise<BenchBroker> {
  const engine = createLeaseTestEngine();
  const clock = runningClock();
  const audit = { bytes: 0, records: 0 };
  const leaseProblems: string[] = [];
  const broker = await createBroker({
    store,
    storage,
    // As the functions run it: node:crypto (the Lambda revoker is the one measured).
    keyProvider: createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32)), {
      symmetric: nodeSymmetricCrypto,
    }),
    engines: { ...ENGINES, types: { ...ENGINES.types, leasing: engine.type } },
    auditWriters: [
      (line) => {
        audit.bytes += Buffer.byteLength(line) + 1;
        audit.records++;
      },
    ],
    now: clock.now,
    log: (level, message) => {
      if (level === "warn" || level === "error") leaseProblems.push(message);
    },
  });
  return { broker, engine, clock, audit, leaseProblems };
}
