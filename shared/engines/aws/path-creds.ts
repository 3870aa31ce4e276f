/**
 * aws/creds/<role> and aws/sts/<role> (GET or POST, optional `ttl` and `role_arn`): STS
 * AssumeRole for the caller, answered in Vault's shape with a lease.
 *
 * STS is called first and the lease written after, so a failing STS leaves nothing
 * behind. If the lease cannot be written, the credentials just minted are never shown to
 * anyone and expire on their own (within the hour).
 */
import { AssumeRoleCommand, type AssumeRoleCommandOutput } from "@aws-sdk/client-sts";
import { CofferError, invalidRequest } from "../../errors.ts";
import type { Item } from "../../store/item-store.ts";
import { type EngineContext, type EngineRequest, type EngineResponse, type Route, route } from "../engine.ts";
import type { FieldSchema, FieldValues } from "../fields.ts";
import { awsFailure } from "./aws-errors.ts";
import type { AwsClients } from "./clients.ts";
import { ROLE, roleName } from "./path-roles.ts";
import { type AwsRole, requestedStsTtl, roleFromItem, stsDuration } from "./role.ts";
import { sessionIdentityOf } from "./session-identity.ts";
import { configKey, roleKey } from "./storage.ts";
import { STS_LEASE_TYPE, type StsLeaseData } from "./sts-lease.ts";

function chooseRoleArn(requested: string | undefined, role: AwsRole, name: string): string {
  if (requested === undefined || requested === "") {
    if (role.roleArns.length !== 1 || !role.roleArns[0]) {
      throw invalidRequest("did not supply a role_arn parameter and unable to determine one");
    }
    return role.roleArns[0];
  }
  if (!role.roleArns.includes(requested)) {
    throw invalidRequest(`role_arn "${requested}" not in allowed role arns for role "${name}"`);
  }
  return requested;
}

/** The fields of aws/creds/<name> and aws/sts/<name>, as Vault declares them. */
export const CREDS_FIELDS = {
  name: ROLE,
  ttl: { type: "duration", description: "The credentials' lifetime; 0 or none is the role's default." },
  role_arn: { type: "string", description: "Which of the role's IAM roles to assume, when it has several." },
  role_session_name: {
    type: "string",
    description: "Refused when set: the session is named after the caller's proven identity.",
  },
  mfa_code: { type: "string", description: "For iam_user credentials only: refused when set." },
} as const satisfies FieldSchema;

export function credsRoute(
  { mount, store, leases, now }: EngineContext,
  clientsFor: (configItem: Item | undefined) => Promise<AwsClients>,
): Route {
  async function issue(request: EngineRequest<FieldValues<typeof CREDS_FIELDS>>): Promise<EngineResponse> {
    const name = roleName(request.fields.name);
    // The session name is what IAM denies on revocation and CloudTrail shows: it always
    // comes from the caller's proven identity, never from the request.
    if (request.fields.role_session_name) {
      throw invalidRequest(
        '"role_session_name" is not supported: Coffer names each session after the caller\'s proven identity',
      );
    }
    if (request.fields.mfa_code) {
      throw invalidRequest('"mfa_code" is not supported: Coffer issues assumed_role credentials only');
    }
    const requestedTtl = requestedStsTtl(request.fields.ttl);
    // The role and the configuration in one round trip.
    const [configItem, roleItem] = await store.batchGet([configKey(mount.uuid), roleKey(mount.uuid, name)]);
    if (!roleItem) throw invalidRequest(`Role "${name}" not found`);
    const role = roleFromItem(roleItem);
    const roleArn = chooseRoleArn(request.fields.role_arn, role, name);
    const duration = stsDuration(role, requestedTtl, mount.config.max_lease_ttl);
    const { sessionName, tags } = sessionIdentityOf(request.caller);
    const { sts } = await clientsFor(configItem);

    let output: AssumeRoleCommandOutput;
    try {
      output = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          DurationSeconds: duration,
          Policy: role.policyDocument || undefined,
          PolicyArns: role.policyArns.length > 0 ? role.policyArns.map((arn) => ({ arn })) : undefined,
          ExternalId: role.externalId || undefined,
          Tags: tags.length > 0 ? tags : undefined,
        }),
      );
    } catch (error) {
      throw awsFailure(`assume role ${roleArn}`, error);
    }
    const credentials = output.Credentials;
    const userId = output.AssumedRoleUser?.AssumedRoleId;
    const arn = output.AssumedRoleUser?.Arn;
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !(credentials.Expiration instanceof Date) ||
      !userId ||
      !arn
    ) {
      throw new CofferError(
        "ERR_UPSTREAM_UNAVAILABLE",
        `STS answered AssumeRole for ${roleArn} without credentials`,
      );
    }
    const expiration = credentials.Expiration.getTime();
    const data: StsLeaseData = {
      role_arn: roleArn,
      user_id: userId,
      expiration,
      issued: expiration - duration * 1000,
    };
    const leaseId = await leases.issue({
      path: request.path,
      type: STS_LEASE_TYPE,
      caller: request.caller,
      expiresAt: expiration,
      renewable: false,
      data: { ...data },
    });
    return {
      data: {
        access_key: credentials.AccessKeyId,
        secret_key: credentials.SecretAccessKey,
        security_token: credentials.SessionToken,
        arn,
      },
      leaseId,
      leaseDuration: Math.max(0, Math.floor((expiration - now()) / 1000)),
      renewable: false,
    };
  }

  return route({
    pattern: /^(?:creds|sts)\/(?<name>[^/]+)$/,
    fields: CREDS_FIELDS,
    // A read that issues a lease: served where lease writes are exact.
    region: { read: "home" },
    operations: { read: issue, update: issue },
  });
}
