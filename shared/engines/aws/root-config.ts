/**
 * The mount's connection to AWS (Vault's aws/config/root): region, endpoint overrides for
 * emulators or private endpoints, and optional static credentials. Without credentials the
 * engine uses the function's own (the SDK's default chain). The secret key is sealed with
 * a binding to the mount and never returned.
 */
import { open, seal } from "../../crypto/envelope.ts";
import { invalidRequest } from "../../errors.ts";
import type { Item } from "../../store/item-store.ts";
import type { EngineContext, JsonObject } from "../engine.ts";
import { type FieldSchema, type FieldValues, rejectNonEmptyFields } from "../fields.ts";
import type { Mount } from "../mount.ts";
import { configKey } from "./storage.ts";

export interface RootConfig {
  /** Changes with every write: clients built from an older version are replaced. */
  version: string;
  region: string;
  stsRegion: string;
  stsEndpoint: string;
  iamEndpoint: string;
  accessKey: string;
  /** Plaintext, in memory only; "" without static credentials. */
  secretKey: string;
  /** -1: the SDK's default. */
  maxRetries: number;
}

/** What the engine uses before config/root is written: the function's region and credentials. */
export const DEFAULT_ROOT_CONFIG: RootConfig = {
  version: "default",
  region: "",
  stsRegion: "",
  stsEndpoint: "",
  iamEndpoint: "",
  accessKey: "",
  secretKey: "",
  maxRetries: -1,
};

const unsupported = { type: "any", description: "Refused when set: Coffer does not implement it." } as const;

/** The fields of aws/config/root, as Vault declares them. */
export const ROOT_CONFIG_FIELDS = {
  access_key: { type: "string", description: "Static credentials; the function's own role without them." },
  secret_key: { type: "string", description: "Static credentials: sealed, never shown again." },
  region: { type: "string", description: "The region of the IAM and STS clients." },
  sts_region: { type: "string", description: "The region of the STS client, if another." },
  sts_endpoint: {
    type: "string",
    description: "An STS endpoint override (an emulator, a private endpoint).",
  },
  iam_endpoint: { type: "string", description: "An IAM endpoint override." },
  max_retries: {
    type: "integer",
    min: -1,
    max: 10,
    description: "Retries of a failed AWS call; -1 is Coffer's default policy.",
  },
  // Vault's fields Coffer does not implement: accepted when empty, so tools that send every field work.
  username_template: unsupported,
  role_arn: unsupported,
  identity_token_audience: unsupported,
  identity_token_ttl: unsupported,
  sts_fallback_endpoints: unsupported,
  sts_fallback_regions: unsupported,
} as const satisfies FieldSchema;

type RootConfigFields = FieldValues<typeof ROOT_CONFIG_FIELDS>;

const secretBinding = (mount: Mount) => ({ purpose: "aws-root-secret-key", mount: mount.uuid });
const encoder = new TextEncoder();

function endpoint(given: string | undefined, name: string): string {
  const value = given?.trim() ?? "";
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest(`invalid value for "${name}": expected an http or https URL`);
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  ) {
    throw invalidRequest(
      `invalid value for "${name}": expected an http or https URL without credentials or query`,
    );
  }
  return value.replace(/\/+$/, "");
}

function region(given: string | undefined, name: string): string {
  const value = given?.trim() ?? "";
  if (value !== "" && !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(value)) {
    throw invalidRequest(`invalid value for "${name}": expected an AWS region such as "eu-west-1"`);
  }
  return value;
}

/** Validates a config/root write and returns the item to store. */
export async function rootConfigItem(
  { mount, keyring, now }: Pick<EngineContext, "mount" | "keyring" | "now">,
  fields: RootConfigFields,
): Promise<Item> {
  rejectNonEmptyFields(
    {
      username_template: fields.username_template,
      role_arn: fields.role_arn,
      identity_token_audience: fields.identity_token_audience,
      identity_token_ttl: fields.identity_token_ttl,
      sts_fallback_endpoints: fields.sts_fallback_endpoints,
      sts_fallback_regions: fields.sts_fallback_regions,
    },
    "aws",
  );
  const accessKey = fields.access_key?.trim() ?? "";
  const secretKey = fields.secret_key ?? "";
  if ((accessKey === "") !== (secretKey === "")) {
    throw invalidRequest('"access_key" and "secret_key" go together: give both or neither');
  }
  if (accessKey !== "" && !/^[A-Z0-9]{16,128}$/.test(accessKey)) {
    throw invalidRequest('invalid value for "access_key": expected an AWS access key id');
  }
  if (secretKey.length > 256) throw invalidRequest('invalid value for "secret_key": too long');
  return {
    ...configKey(mount.uuid),
    version: crypto.randomUUID(),
    region: region(fields.region, "region"),
    sts_region: region(fields.sts_region, "sts_region"),
    sts_endpoint: endpoint(fields.sts_endpoint, "sts_endpoint"),
    iam_endpoint: endpoint(fields.iam_endpoint, "iam_endpoint"),
    access_key: accessKey,
    secret_key:
      secretKey === "" ? null : await seal(keyring, encoder.encode(secretKey), secretBinding(mount)),
    max_retries: fields.max_retries ?? -1,
    updated_at: new Date(now()).toISOString(),
  };
}

export async function rootConfigFromItem(
  { mount, keyring }: Pick<EngineContext, "mount" | "keyring">,
  item: Item | undefined,
): Promise<RootConfig> {
  if (!item) return DEFAULT_ROOT_CONFIG;
  const sealed = item.secret_key;
  return {
    version: String(item.version),
    region: String(item.region ?? ""),
    stsRegion: String(item.sts_region ?? ""),
    stsEndpoint: String(item.sts_endpoint ?? ""),
    iamEndpoint: String(item.iam_endpoint ?? ""),
    accessKey: String(item.access_key ?? ""),
    secretKey:
      sealed instanceof Uint8Array
        ? new TextDecoder().decode(await open(keyring, sealed, secretBinding(mount)))
        : "",
    maxRetries: Number(item.max_retries ?? -1),
  };
}

/** Vault's read shape: everything but the secret key. */
export function describeRootConfig(item: Item): JsonObject {
  return {
    access_key: String(item.access_key ?? ""),
    region: String(item.region ?? ""),
    sts_region: String(item.sts_region ?? ""),
    sts_endpoint: String(item.sts_endpoint ?? ""),
    iam_endpoint: String(item.iam_endpoint ?? ""),
    max_retries: Number(item.max_retries ?? -1),
  };
}
