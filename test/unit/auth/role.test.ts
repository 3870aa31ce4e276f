/**
 * Role bindings: Vault's glob for bound names and namespaces ("*" matches any run of
 * characters, nothing else is special), and the binding check itself.
 */
import { describe, expect, it } from "vitest";
import { checkBinding, globMatches, type KubernetesRole } from "../../../shared/auth/kubernetes/role.ts";

const role = (names: string[], namespaces: string[]): KubernetesRole => ({
  boundServiceAccountNames: names,
  boundServiceAccountNamespaces: namespaces,
  audience: "",
  aliasNameSource: "serviceaccount_uid",
  tokenPolicies: [],
  tokenTtl: 0,
  tokenMaxTtl: 0,
  tokenExplicitMaxTtl: 0,
  tokenNoDefaultPolicy: false,
  maxAge: 86400,
});
const account = (namespace: string, name: string) => ({ namespace, name, uid: "u-1", secretName: "" });

describe("globMatches", () => {
  it.each([
    ["*", "anything", true],
    ["*", "", true],
    ["app", "app", true],
    ["app", "app2", false],
    ["team-*", "team-a", true],
    ["team-*", "team-", true],
    ["team-*", "teams", false],
    ["*-prod", "billing-prod", true],
    ["*-prod", "billing-prod-2", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "a-b-c", true],
    ["a*b*c", "a-c-b", false],
    ["ab*ba", "aba", false],
    ["a.b", "axb", false],
    ["a?", "ab", false],
  ])("%s against %s: %s", (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });
});

describe("checkBinding", () => {
  it("accepts a bound service account in a bound namespace", () => {
    expect(() => checkBinding(role(["app"], ["team-*"]), account("team-a", "app"))).not.toThrow();
    expect(() => checkBinding(role(["*"], ["default"]), account("default", "anyone"))).not.toThrow();
  });

  it("refuses an unbound name or namespace, each with its own check code and Vault's reason", () => {
    const refusal = (run: () => void) => {
      try {
        run();
      } catch (error) {
        return error;
      }
    };
    expect(refusal(() => checkBinding(role(["app"], ["*"]), account("default", "other")))).toMatchObject({
      code: "ERR_PERMISSION_DENIED",
      check: "ERR_SERVICE_ACCOUNT_NOT_BOUND",
      message: "permission denied: service account name not authorized",
    });
    expect(
      refusal(() => checkBinding(role(["app"], ["team-*"]), account("kube-system", "app"))),
    ).toMatchObject({
      code: "ERR_PERMISSION_DENIED",
      check: "ERR_NAMESPACE_NOT_BOUND",
      message: "permission denied: namespace not authorized",
    });
  });
});
