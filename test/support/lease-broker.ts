/**
 * Brokers for lease tests: real adapters (the store under test, a local key provider),
 * the product's engines plus the lease test engine, a clock tests can move forward, and
 * the audit log and lease log captured for assertions.
 */
import { type Broker, createBroker } from "../../shared/broker.ts";
import type { KeyProvider } from "../../shared/crypto/key-provider.ts";
import { createLocalKeyProvider } from "../../shared/crypto/local.ts";
import type { LogLevel } from "../../shared/log.ts";
import { ENGINES } from "../../shared/registry.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { initialize } from "../../shared/sys/init.ts";
import { createLeaseTestEngine, type LeaseTestEngine } from "./lease-test-engine.ts";

/** Real time plus an offset that only grows: expiry and backoff without waiting. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

export function testClock(offsetMs = 0): TestClock {
  let offset = offsetMs;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}

export interface LogEvent {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export interface LeaseBroker {
  broker: Broker;
  engine: LeaseTestEngine;
  clock: TestClock;
  /** Parsed audit records. */
  audit: Record<string, unknown>[];
  logs: LogEvent[];
}

export interface LeaseBrokerOptions {
  store: ItemStore;
  storage?: string;
  /** Brokers sharing a store must share the root key (the keyring lives in the store). */
  rootKey: Uint8Array;
  /** Instead of a local key provider from rootKey (KMS on moto, for the AWS composition). */
  keyProvider?: KeyProvider;
  clock?: TestClock;
  engine?: LeaseTestEngine;
}

export async function openLeaseBroker(options: LeaseBrokerOptions): Promise<LeaseBroker> {
  const engine = options.engine ?? createLeaseTestEngine();
  const clock = options.clock ?? testClock();
  const audit: Record<string, unknown>[] = [];
  const logs: LogEvent[] = [];
  const broker = await createBroker({
    store: options.store,
    storage: options.storage ?? "sqlite",
    keyProvider: options.keyProvider ?? createLocalKeyProvider(options.rootKey),
    engines: { ...ENGINES, types: { ...ENGINES.types, leasing: engine.type } },
    auditWriters: [(line) => void audit.push(JSON.parse(line))],
    now: clock.now,
    log: (level, msg, fields) => void logs.push({ level, msg, ...fields }),
  });
  return { broker, engine, clock, audit, logs };
}

/** Initializes the store (root token) and mounts the lease test engine at `path`. */
export async function initializeWithLeasing(broker: Broker, path = "t"): Promise<string> {
  const { rootToken } = await initialize(broker);
  await broker.mounts.enable({ path, type: "leasing" });
  return rootToken;
}

export const randomRootKey = () => crypto.getRandomValues(new Uint8Array(32));
