/**
 * Who an STS session is for, as CloudTrail and IAM policies see it. The session name is
 * "<service account>@<namespace>_<random>" (or the token's display name for tokens from
 * no service account), cut to fit STS's 64 characters; the random suffix makes every
 * session distinct, so denying one revoked session leaves the others alone. Session tags
 * carry the full namespace and service account under the names EKS Pod Identity uses, so
 * policies written for it (aws:PrincipalTag/kubernetes-namespace) work unchanged.
 *
 * Both come from the caller's proven identity alone (what a login verified, inherited by
 * its children): IAM policies grant on these tags, so a field the caller can write (the
 * token's `meta`) must never reach them.
 */
import type { Caller } from "../engine.ts";
import { workloadOf } from "../proven-identity.ts";

export const MAX_SESSION_NAME = 64;
const SUFFIX_LENGTH = 10;
const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const MAX_TAG_VALUE = 256;

export interface SessionIdentity {
  sessionName: string;
  tags: { Key: string; Value: string }[];
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SUFFIX_LENGTH));
  // 256 % 36 leaves a slight bias, irrelevant for a uniqueness suffix.
  return Array.from(bytes, (byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join("");
}

/** STS allows [\w+=,.@-] in session names; anything else becomes "-". */
const sanitize = (text: string) => text.replace(/[^\w+=,.@-]/g, "-");

/** The session for a caller: only its proven identity and display name are read. */
export function sessionIdentityOf(
  caller: Pick<Caller, "identity" | "displayName"> | undefined,
): SessionIdentity {
  const workload = workloadOf(caller?.identity);
  const who = workload ? `${workload.serviceAccount}@${workload.namespace}` : caller?.displayName || "coffer";
  const room = MAX_SESSION_NAME - SUFFIX_LENGTH - 1;
  const sessionName = `${sanitize(who).slice(0, room)}_${randomSuffix()}`;
  const tags: SessionIdentity["tags"] = workload
    ? [
        { Key: "kubernetes-namespace", Value: workload.namespace.slice(0, MAX_TAG_VALUE) },
        { Key: "kubernetes-service-account", Value: workload.serviceAccount.slice(0, MAX_TAG_VALUE) },
      ]
    : [];
  return { sessionName, tags };
}
