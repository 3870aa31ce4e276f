import { describe, expect, it } from "vitest";
import { awsClientCache } from "../../../shared/engines/aws/clients.ts";
import { denyPolicyName } from "../../../shared/engines/aws/deny-list.ts";
import { DEFAULT_ROOT_CONFIG, type RootConfig } from "../../../shared/engines/aws/root-config.ts";
import { denyPolicyNameKey } from "../../../shared/engines/aws/storage.ts";
import type { Item } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";

const configItem = (version: string): Item => ({ pk: "aws/m", sk: "config/root", version });

describe("the aws client cache", () => {
  it("opens the root configuration only when its stored version changes", async () => {
    const loaded: string[] = [];
    const clientsFor = awsClientCache(async (item): Promise<RootConfig> => {
      loaded.push(String(item.version));
      return { ...DEFAULT_ROOT_CONFIG, version: String(item.version), region: "eu-west-1" };
    });
    const first = await clientsFor(configItem("v1"));
    expect(await clientsFor(configItem("v1"))).toBe(first);
    expect(await clientsFor(configItem("v1"))).toBe(first);
    expect(loaded).toEqual(["v1"]);

    const second = await clientsFor(configItem("v2"));
    expect(second).not.toBe(first);
    expect(await clientsFor(configItem("v2"))).toBe(second);
    expect(loaded).toEqual(["v1", "v2"]);

    // No configuration written (or deleted): the defaults, with nothing to open.
    const defaults = await clientsFor(undefined);
    expect(defaults).not.toBe(second);
    expect(await clientsFor(undefined)).toBe(defaults);
    expect(loaded).toEqual(["v1", "v2"]);
  });

  it("opens again after a failed load", async () => {
    let fail = true;
    const clientsFor = awsClientCache(async (item) => {
      if (fail) throw new Error("keyring unavailable");
      return { ...DEFAULT_ROOT_CONFIG, version: String(item.version) };
    });
    await expect(clientsFor(configItem("v1"))).rejects.toThrow(/keyring unavailable/);
    fail = false;
    await expect(clientsFor(configItem("v1"))).resolves.toHaveProperty("sts");
  });
});

describe("the deny policy name", () => {
  it("is chosen once per store, whoever asks first, and is not tied to a mount", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    try {
      const names = await Promise.all([1, 2, 3, 4].map(() => denyPolicyName(store, Date.now())));
      expect(new Set(names).size).toBe(1);
      expect(names[0]).toMatch(/^coffer-revoked-sessions-[0-9a-f]{16}$/);
      expect((await store.get(denyPolicyNameKey))?.name).toBe(names[0]);
      expect(await denyPolicyName(store, Date.now())).toBe(names[0]);

      const other = openSqliteStore({ path: ":memory:" });
      try {
        // Another deployment sharing a role must not write the same policy.
        expect(await denyPolicyName(other, Date.now())).not.toBe(names[0]);
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
    }
  });
});
