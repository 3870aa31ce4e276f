/**
 * Who a verified token speaks for. Two claim layouts exist:
 * - projected tokens (Kubernetes 1.12+): a "kubernetes.io" claim with namespace,
 *   serviceaccount {name, uid} and, when bound to a pod, pod {name, uid};
 * - legacy Secret-based tokens: flat "kubernetes.io/serviceaccount/..." claims.
 * The `sub` claim, when present, must agree with them.
 */
import type { JWTPayload } from "jose";
import { loginDenied } from "./login-errors.ts";

export interface ServiceAccount {
  namespace: string;
  name: string;
  uid: string;
  /** The Secret of a legacy token; "" for projected tokens. */
  secretName: string;
  podName?: string;
  podUid?: string;
}

/** Kubernetes object names (DNS subdomains) and uids: nothing else is taken from a token. */
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const UID = /^[A-Za-z0-9-]{1,64}$/;

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function serviceAccountOf(claims: JWTPayload): ServiceAccount {
  const projected = objectOf(claims["kubernetes.io"]);
  let account: ServiceAccount;
  if (projected) {
    const serviceAccount = objectOf(projected.serviceaccount);
    const pod = objectOf(projected.pod);
    account = {
      namespace: text(projected.namespace) ?? "",
      name: text(serviceAccount?.name) ?? "",
      uid: text(serviceAccount?.uid) ?? "",
      secretName: "",
    };
    if (pod) {
      account.podName = text(pod.name) ?? "";
      account.podUid = text(pod.uid) ?? "";
    }
  } else {
    account = {
      namespace: text(claims["kubernetes.io/serviceaccount/namespace"]) ?? "",
      name: text(claims["kubernetes.io/serviceaccount/service-account.name"]) ?? "",
      uid: text(claims["kubernetes.io/serviceaccount/service-account.uid"]) ?? "",
      secretName: text(claims["kubernetes.io/serviceaccount/secret.name"]) ?? "",
    };
  }

  const valid =
    NAME.test(account.namespace) &&
    NAME.test(account.name) &&
    UID.test(account.uid) &&
    (account.secretName === "" || NAME.test(account.secretName)) &&
    (account.podName === undefined || NAME.test(account.podName)) &&
    (account.podUid === undefined || UID.test(account.podUid));
  if (!valid)
    throw loginDenied(
      "ERR_SERVICE_ACCOUNT_INVALID",
      "the token does not identify a Kubernetes service account",
    );
  if (
    claims.sub !== undefined &&
    claims.sub !== `system:serviceaccount:${account.namespace}:${account.name}`
  ) {
    throw loginDenied(
      "ERR_SERVICE_ACCOUNT_SUBJECT_MISMATCH",
      "the token's subject does not match its service account",
    );
  }
  return account;
}
