/**
 * Identity templates in policy paths: filled from the caller's Kubernetes alias, and
 * leaving the rule out when they cannot be filled safely.
 */
import { describe, expect, it } from "vitest";
import type { PolicyIdentity } from "../../../shared/policy/acl.ts";
import { fillTemplates } from "../../../shared/policy/path-template.ts";

const ACCESSOR = "auth_kubernetes_1a2b3c4d";
const identity = (metadata: Record<string, string>): PolicyIdentity => ({
  aliases: { [ACCESSOR]: metadata },
  aliasNames: { [ACCESSOR]: "3c1d0f9e-8a7b-4c6d-9e5f-a1b2c3d4e5f6" },
  entityId: "0b8c4f5e-1d2a-4e3b-9c8d-7e6f5a4b3c2d",
});
const ns = `{{identity.entity.aliases.${ACCESSOR}.metadata.service_account_namespace}}`;
const sa = `{{ identity.entity.aliases.${ACCESSOR}.metadata.service_account_name }}`;

describe("fillTemplates", () => {
  it("fills alias metadata, alias name and entity id", () => {
    const who = identity({ service_account_namespace: "team-a", service_account_name: "app" });
    expect(fillTemplates(`secret/data/${ns}/${sa}/*`, who)).toBe("secret/data/team-a/app/*");
    expect(fillTemplates(`x/{{identity.entity.aliases.${ACCESSOR}.name}}`, who)).toBe(
      "x/3c1d0f9e-8a7b-4c6d-9e5f-a1b2c3d4e5f6",
    );
    expect(fillTemplates("x/{{identity.entity.id}}", who)).toBe("x/0b8c4f5e-1d2a-4e3b-9c8d-7e6f5a4b3c2d");
  });

  it("leaves the rule out without an identity, without the alias, or without the key", () => {
    expect(fillTemplates(`secret/${ns}`, undefined)).toBeUndefined();
    expect(fillTemplates(`secret/${ns}`, { aliases: {} })).toBeUndefined();
    expect(fillTemplates(`secret/${ns}`, identity({ service_account_name: "app" }))).toBeUndefined();
    expect(
      fillTemplates(
        `secret/{{identity.entity.aliases.auth_kubernetes_other.metadata.service_account_namespace}}`,
        identity({ service_account_namespace: "a" }),
      ),
    ).toBeUndefined();
  });

  it("leaves the rule out when a value could widen it", () => {
    for (const value of ["", "a/b", "*", "+", "..", ".", "a b", "a{{b}}"]) {
      expect(
        fillTemplates(`secret/${ns}/x`, identity({ service_account_namespace: value })),
        value,
      ).toBeUndefined();
    }
  });

  it("leaves paths without templates as they are", () => {
    expect(fillTemplates("secret/data/app", undefined)).toBe("secret/data/app");
  });
});
