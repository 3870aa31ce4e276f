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
import { optionalString, rejectUnknownFields } from "../../http/fields.ts";
import type { Item } from "../../store/item-store.ts";
import type { EngineContext, EngineRequest, EngineResponse, Route } from "../engine.ts";
import { awsFailure } from "./aws-errors.ts";
import type { AwsClients } from "./clients.ts";
import { roleName } from "./path-roles.ts";
import { type AwsRole, requestedStsTtl, roleFromItem, stsDuration } from "./role.ts";
import { sessionIdentityOf } from "./session-identity.ts";
import { configKey, roleKey } from "./storage.ts";
import { STS_LEASE_TYPE, type StsLeaseData } from "./sts-lease.ts";

function chooseRoleArn(request: EngineRequest, role: AwsRole, name: string): string {
  const requested = optionalString(request.data, "role_arn");
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

export function credsRoute(
  { mount, store, leases, now }: EngineContext,
  clientsFor: (configItem: Item | undefined) => Promise<AwsClients>,
): Route {
  async function issue(request: EngineRequest): Promise<EngineResponse> {
    rejectUnknownFields(request.data, ["ttl", "role_arn"]);
    const name = roleName(request);
    const requestedTtl = requestedStsTtl(request.data);
    // The role and the configuration in one round trip.
    const [configItem, roleItem] = await store.batchGet([configKey(mount.uuid), roleKey(mount.uuid, name)]);
    if (!roleItem) throw invalidRequest(`Role "${name}" not found`);
    const role = roleFromItem(roleItem);
    const roleArn = chooseRoleArn(request, role, name);
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

  return {
    pattern: /^(?:creds|sts)\/(?<name>[^/]+)$/,
    operations: { read: issue, update: issue },
  };
}
