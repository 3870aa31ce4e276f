/**
 * Generated usernames and passwords: bounded, unique, drawn from alphabets that need no
 * escaping, and telling an operator who a user belongs to.
 */
import { describe, expect, it } from "vitest";
import { generatePassword, randomString } from "../../../shared/engines/database/password.ts";
import { scramVerifier } from "../../../shared/engines/database/scram-verifier.ts";
import { generateUsername, MAX_USERNAME_BYTES } from "../../../shared/engines/database/username.ts";
import { provenIdentity, tokenRecord } from "../../support/token-record.ts";

const token = (workload: { namespace: string; name: string } | undefined, displayName = "kubernetes-x") =>
  tokenRecord({
    displayName,
    ...(workload ? { identity: provenIdentity(workload.namespace, workload.name) } : {}),
  });

describe("usernames", () => {
  it("name the namespace, service account and role, then a random suffix", () => {
    const name = generateUsername(token({ namespace: "payments", name: "api" }), "readonly");
    expect(name).toMatch(/^v-payments-api-readonly-[a-z0-9]{12}$/);
  });

  it("fall back to the token's display name, and to 'coffer' without a token", () => {
    expect(generateUsername(token(undefined, "root"), "ro")).toMatch(/^v-root-ro-[a-z0-9]{12}$/);
    expect(generateUsername(undefined, "ro")).toMatch(/^v-coffer-ro-[a-z0-9]{12}$/);
  });

  it("fit PostgreSQL's 63 bytes whatever the parts, sharing the room fairly", () => {
    for (const [namespace, account, role] of [
      ["n".repeat(63), "s".repeat(253), "r".repeat(128)],
      ["short", "s".repeat(253), "ro"],
      ["a", "b", "c".repeat(128)],
    ] as const) {
      const name = generateUsername(token({ namespace: namespace, name: account }), role);
      expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(MAX_USERNAME_BYTES);
      expect(name).toMatch(/^v-[a-z0-9_-]+-[a-z0-9]{12}$/);
    }
    const shortKept = generateUsername(token({ namespace: "short", name: "s".repeat(253) }), "ro");
    expect(shortKept).toMatch(/^v-short-s+-ro-/);
    expect(shortKept).toHaveLength(MAX_USERNAME_BYTES);
  });

  it("keep only lower-case letters, digits, '_' and single '-' from any input", () => {
    const name = generateUsername(token({ namespace: `NS"; DROP--x`, name: "sa.with.dots-" }), "Ro.le");
    expect(name).toMatch(/^v-ns-drop-x-sa-with-dots-ro-le-[a-z0-9]{12}$/);
    expect(name).not.toContain("--");
  });

  it("are unique", () => {
    const names = new Set(Array.from({ length: 20_000 }, () => generateUsername(undefined, "r")));
    expect(names.size).toBe(20_000);
  });
});

describe("passwords", () => {
  it("are 32 letters and digits, each draw distinct", () => {
    const passwords = Array.from({ length: 2_000 }, generatePassword);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
  });

  it("draw every character of the alphabet equally often (no modulo bias)", () => {
    const counts = new Map<string, number>();
    for (const char of randomString("abc", 90_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    for (const count of counts.values()) expect(Math.abs(count - 30_000)).toBeLessThan(900);
  });
});

describe("SCRAM verifiers", () => {
  it("match RFC 7677's test vector for the stored and server keys", async () => {
    // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
    const salt = Uint8Array.from(atob("W22ZaJ0SNY7soEsUEjb6gQ=="), (c) => c.charCodeAt(0));
    expect(await scramVerifier("pencil", salt)).toBe(
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
    );
  });
});
