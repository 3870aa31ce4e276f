import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dueSortKey,
  EXPIRY_SHARDS,
  expiryKey,
  firstSegment,
  indexKeys,
  leaseKey,
  parseExpirySortKey,
  shardOf,
} from "../../../shared/leases/lease-keys.ts";

describe("lease keys", () => {
  it("orders expiry sort keys as their due times", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 15 - 1 }), fc.nat({ max: 10 ** 15 - 1 }), (a, b) => {
        const order = Math.sign(a - b);
        const [x, y] = [dueSortKey(a), dueSortKey(b)];
        const keys = x < y ? -1 : x > y ? 1 : 0;
        expect(keys).toBe(order);
      }),
    );
  });

  it("reads back the lease id and due time from an expiry sort key", () => {
    const key = expiryKey("aws/creds/app/abc", 1_790_000_000_123);
    expect(parseExpirySortKey(key.sk)).toEqual({ id: "aws/creds/app/abc", dueAt: 1_790_000_000_123 });
    // Everything due at or before t sorts at or before dueSortKey(t + 1).
    expect(key.sk <= dueSortKey(1_790_000_000_124)).toBe(true);
    expect(key.sk <= dueSortKey(1_790_000_000_123)).toBe(false);
  });

  it("spreads lease ids evenly over the expiry shards, always the same way", () => {
    const counts = new Array(EXPIRY_SHARDS).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`aws/creds/app/${i.toString(36)}x`)]++;
    for (const count of counts) expect(count).toBeGreaterThan(700);
    expect(shardOf("aws/creds/app/x")).toBe(shardOf("aws/creds/app/x"));
  });

  it("puts a lease in the partition of its first segment", () => {
    expect(firstSegment("aws/creds/app/x")).toBe("aws");
    expect(leaseKey("team/aws/creds/x")).toEqual({ pk: "lease/team", sk: "team/aws/creds/x" });
  });

  it("indexes by identity and token only when the lease has them", () => {
    const base = { id: "t/creds/a/x", dueAt: 1000 };
    expect(indexKeys({ ...base, identity: { entityId: "", accessor: "" } })).toHaveLength(1);
    expect(indexKeys({ ...base, identity: { entityId: "e", accessor: "acc" } })).toEqual([
      expiryKey(base.id, 1000),
      { pk: "lease-identity/e", sk: base.id },
      { pk: "lease-token/acc", sk: base.id },
    ]);
  });
});
