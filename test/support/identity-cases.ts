/**
 * The callers every consumer of identity is checked against: tokens a Kubernetes login
 * proved, tokens they made (which inherit the proof) with `meta` claiming another service
 * account, and tokens that proved nothing but claim one in `meta` (made by root, or
 * orphans made by a login). A consumer passes when what it derives from each caller
 * (session tags, usernames, templated paths, lease identity) follows `proven` and never
 * `meta`.
 */
import type { ApiCall } from "./http.ts";
import type { KubernetesCluster } from "./kubernetes-cluster.ts";

/** A policy letting a login make tokens of any kind, orphans included. */
export const TOKEN_MAKER_POLICY = "token-maker";

/** Every key a consumer of identity might look for, with values of another service account. */
export const FORGED_META = {
  service_account_namespace: "billing",
  service_account_name: "admin",
  service_account_uid: "00000000-0000-4000-8000-000000000000",
  entity_id: "forged-entity",
  mount_accessor: "auth_kubernetes_forged",
  role: "workload",
};

export interface IdentityCase {
  name: string;
  token: string;
  /** The service account the token's holder proved, or undefined when it proved none. */
  proven?: { namespace: string; serviceAccount: string };
  /** The entity of the proof; "" when there is none. */
  entityId: string;
}

/**
 * Creates the callers through the API: `call` holds root, `cluster` is trusted by the
 * broker and its role "workload" carries `policies`: TOKEN_MAKER_POLICY and whatever the
 * consumer needs. Root's token gets the same policies, so only the identity differs.
 */
export async function identityCases(
  call: ApiCall,
  cluster: KubernetesCluster,
  policies: string[],
): Promise<IdentityCase[]> {
  const written = await call("POST", `sys/policies/acl/${TOKEN_MAKER_POLICY}`, {
    policy: 'path "auth/token/create" { capabilities = ["update", "sudo"] }',
  });
  if (written.status !== 204) throw new Error(`writing ${TOKEN_MAKER_POLICY} failed`);
  /** A token made by `maker`, or by root when it is undefined. */
  const create = async (maker: string | undefined, body: Record<string, unknown>) => {
    const reply = await call("POST", "auth/token/create", body, maker);
    if (reply.status !== 200) throw new Error(`token create failed: ${JSON.stringify(reply.body)}`);
    return String(reply.body.auth.client_token);
  };
  const entityOf = async (token: string) =>
    String((await call("GET", "auth/token/lookup-self", undefined, token)).body.data.entity_id);

  const payments = { namespace: "payments", serviceAccount: "api" };
  const login = await cluster.token(payments.namespace, payments.serviceAccount);
  const entityId = await entityOf(login);
  const child = await create(login, { meta: FORGED_META });
  const grandchild = await create(child, { meta: { ...FORGED_META, service_account_name: "auditor" } });
  const claimed = { service_account_namespace: "payments", service_account_name: "api" };
  const other = await cluster.token("billing", "worker");
  return [
    { name: "a login as payments/api", token: login, proven: payments, entityId },
    { name: "its child, whose meta claims billing/admin", token: child, proven: payments, entityId },
    {
      name: "its grandchild, whose meta claims billing/auditor",
      token: grandchild,
      proven: payments,
      entityId,
    },
    {
      name: "root's token, whose meta claims payments/api",
      token: await create(undefined, { policies, meta: { ...FORGED_META, ...claimed } }),
      entityId: "",
    },
    {
      name: "an orphan made by the login, whose meta claims payments/api",
      token: await create(login, { no_parent: true, meta: { ...FORGED_META, ...claimed } }),
      entityId: "",
    },
    {
      name: "a login as billing/worker",
      token: other,
      proven: { namespace: "billing", serviceAccount: "worker" },
      entityId: await entityOf(other),
    },
  ];
}
