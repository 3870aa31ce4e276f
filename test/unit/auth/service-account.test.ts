/**
 * Who a verified token speaks for: only well-formed Kubernetes names and uids, and a
 * `sub` that agrees with them; each refusal with its own check code.
 */
import { describe, expect, it } from "vitest";
import { serviceAccountOf } from "../../../shared/auth/kubernetes/service-account.ts";
import { projectedPayload } from "../../support/cluster-keys.ts";

const claims = (overrides: Record<string, unknown> = {}) => ({
  ...projectedPayload({ issuer: "https://oidc.cluster.example", namespace: "team-a" }),
  ...overrides,
});

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error;
  }
};

describe("serviceAccountOf", () => {
  it("reads namespace, name, uid and pod from a projected token", () => {
    expect(serviceAccountOf(claims())).toMatchObject({
      namespace: "team-a",
      name: "app",
      podName: "app-7d4b9c",
      secretName: "",
    });
  });

  it("refuses claims that name no valid service account", () => {
    for (const bad of [
      claims({ "kubernetes.io": undefined }),
      claims({ "kubernetes.io": { namespace: "Team A", serviceaccount: { name: "app", uid: "u" } } }),
      claims({ "kubernetes.io": { namespace: "a", serviceaccount: { name: "app", uid: "u/../x" } } }),
    ]) {
      expect(refusal(() => serviceAccountOf(bad))).toMatchObject({
        code: "ERR_PERMISSION_DENIED",
        check: "ERR_SERVICE_ACCOUNT_INVALID",
      });
    }
  });

  it("refuses a sub that names another service account", () => {
    expect(
      refusal(() => serviceAccountOf(claims({ sub: "system:serviceaccount:kube-system:app" }))),
    ).toMatchObject({ code: "ERR_PERMISSION_DENIED", check: "ERR_SERVICE_ACCOUNT_SUBJECT_MISMATCH" });
  });
});
