/**
 * The aws engine end to end against moto: a broker on DynamoDB with KMS (both moto), the
 * HTTP app around it, an IAM role to assume, an `aws/` mount configured with moto's STS
 * and IAM endpoints, and helpers to read what IAM holds.
 */
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { createKmsKeyProvider } from "../../shared/crypto/kms.ts";
import { denyPolicyNameKey } from "../../shared/engines/aws/storage.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import { type Deployment, openDeployment } from "./deployment.ts";
import { type Moto, motoClientConfig } from "./moto.ts";

/** Any well-formed access key: moto accepts every credential. */
export const MOTO_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
export const MOTO_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

export const TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
});

export interface AwsFixture extends Deployment {
  iam: IAMClient;
  /** ARN and RoleId of the IAM role "app" (and "app-two"). */
  roles: Record<string, { arn: string; id: string }>;
  /** The deny policy Coffer keeps on an IAM role, parsed, or undefined when there is none. */
  denyPolicy(
    role: string,
  ): Promise<
    { Statement: { Sid: string; Condition: Record<string, Record<string, unknown>> }[] } | undefined
  >;
  /** The names of every inline policy of an IAM role. */
  rolePolicies(role: string): Promise<string[]>;
  mountAccessor: string;
  tableName: string;
  kmsKeyId: string;
}

/**
 * A fresh moto state, table, key, roles and deployment with `aws/` mounted and configured.
 * `via` is where the broker's own clients (DynamoDB, KMS, STS, IAM) send their requests
 * instead of moto itself: a fault proxy in front of it (test/support/fault-proxy.ts).
 */
export async function openAwsFixture(
  moto: Moto,
  config: Record<string, unknown> = {},
  via: string = moto.endpoint,
): Promise<AwsFixture> {
  await moto.reset();
  const product = { ...motoClientConfig(moto), endpoint: via };
  const dynamodb = new DynamoDBClient({
    ...product,
    // moto is not safe with concurrent transactions; see test/contract/leases.test.ts.
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
  });
  await createTable(dynamodb, "coffer");
  const kms = new KMSClient(product);
  const key = await kms.send(new CreateKeyCommand({}));
  const subject = await openDeployment({
    store: createDynamoDbStore({ client: dynamodb, tableName: "coffer" }),
    storage: "dynamodb",
    keyProvider: createKmsKeyProvider({ client: kms, keyId: String(key.KeyMetadata?.KeyId) }),
  });
  const { call } = subject;
  const iam = new IAMClient(motoClientConfig(moto));
  const roles: AwsFixture["roles"] = {};
  for (const name of ["app", "app-two"]) {
    const created = await iam.send(
      new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST_POLICY }),
    );
    roles[name] = { arn: String(created.Role?.Arn), id: String(created.Role?.RoleId) };
  }

  const mounted = await call("POST", "sys/mounts/aws", { type: "aws" });
  if (mounted.status !== 204) throw new Error(`mounting aws failed: ${JSON.stringify(mounted.body)}`);
  const configured = await call("POST", "aws/config/root", {
    region: moto.region,
    sts_endpoint: via,
    iam_endpoint: via,
    access_key: MOTO_ACCESS_KEY,
    secret_key: MOTO_SECRET_KEY,
    ...config,
  });
  if (configured.status !== 204)
    throw new Error(`configuring aws failed: ${JSON.stringify(configured.body)}`);
  const mountAccessor = (await call("GET", "sys/mounts/aws")).body.data.accessor as string;

  return Object.assign(subject, {
    iam,
    roles,
    mountAccessor,
    tableName: "coffer",
    kmsKeyId: String(key.KeyMetadata?.KeyId),
    async rolePolicies(role: string) {
      return (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];
    },
    async denyPolicy(role: string) {
      // Chosen at the first revocation; none yet means no policy was ever written.
      const named = await subject.broker.store.get(denyPolicyNameKey);
      if (!named) return undefined;
      try {
        const policy = await iam.send(
          new GetRolePolicyCommand({ RoleName: role, PolicyName: String(named.name) }),
        );
        return JSON.parse(decodeURIComponent(String(policy.PolicyDocument)));
      } catch (error) {
        if (
          (error as { name?: string }).name === "NoSuchEntity" ||
          (error as { name?: string }).name === "NoSuchEntityException"
        ) {
          return undefined;
        }
        throw error;
      }
    },
  });
}

/**
 * On a running broker, through `root` (its API with a root token): the IAM role `role` in
 * moto, `aws/` mounted with moto's STS and IAM, and the aws role of the same name that
 * assumes it, as a platform team would set it up. Returns the IAM role's ARN.
 */
export async function mountAwsOnMoto(
  root: (method: string, path: string, body?: unknown) => Promise<unknown>,
  moto: Moto,
  role = "deploy",
): Promise<string> {
  const iam = new IAMClient(motoClientConfig(moto));
  const created = await iam.send(
    new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST_POLICY }),
  );
  const arn = String(created.Role?.Arn);
  await root("POST", "sys/mounts/aws", { type: "aws" });
  await root("POST", "aws/config/root", {
    region: moto.region,
    sts_endpoint: moto.endpoint,
    iam_endpoint: moto.endpoint,
    access_key: MOTO_ACCESS_KEY,
    secret_key: MOTO_SECRET_KEY,
  });
  await root("POST", `aws/roles/${role}`, { credential_type: "assumed_role", role_arns: [arn] });
  return arn;
}
