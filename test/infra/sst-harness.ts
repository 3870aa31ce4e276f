/**
 * Runs sst.config.ts as `sst deploy` would, but under Pulumi's unit-test mocks: no AWS, no
 * Pulumi engine, no network. It injects what the SST CLI normally provides (the $app,
 * $cli and $dev globals, the shims from .sst/platform, one @pulumi/pulumi instance) and
 * answers the RPC calls sst.aws.Function makes to the CLI with a small local server.
 * Every resource's inputs and options are recorded for the tests to read.
 *
 * This leans on SST internals, which is why package.json pins sst to an exact version.
 * One deployment per process: Pulumi's mock runtime is global state.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePlatform, PLATFORM_DIR, ROOT } from "./platform.ts";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
/** The VPC every subnet belongs to, as aws.ec2.getSubnet answers under the mocks. */
export const SUBNET_VPC = "vpc-0123456789abcdef0";
/** The hosted zone of load balancers in the region, as AWS reports it. */
export const ELB_ZONE_ID = "Z35SXDOTRQ7X7K";

/**
 * Resource inputs, RPC parameters and Pulumi outputs are whatever each provider and
 * component declares; tests read them by path and assert on the values.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Untyped = any;

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, Untyped>;
  /** The region of the provider that manages it: REGION unless a second provider was given. */
  region: string;
}

export interface RecordedOptions {
  retainOnDelete?: boolean;
  protect?: boolean;
}

export interface Deployment {
  stage: string;
  app: { name: string; removal: string; protect: boolean };
  resources: Recorded[];
  /** Resource options by "<type>::<name>", as the last stack transformation saw them. */
  options: Map<string, RecordedOptions>;
  rpcCalls: { method: string; params: Untyped }[];
  outputs: Record<string, unknown>;
  /** Every resource of a type. */
  of(type: string): Recorded[];
  /** The one resource of a type (and name); throws when there is not exactly one. */
  one(type: string, name?: string): Recorded;
}

/** Names of the per-stage settings variables; cleared so the outer environment cannot leak in. */
const SETTINGS_VARIABLES = [
  "COFFER_PRODUCTION",
  "COFFER_TARGET_ROLES",
  "COFFER_TARGET_ROLE_BOUNDARY",
  "COFFER_KMS_KEY_ARN",
  "COFFER_KEY_USERS",
  "COFFER_CLUSTER_NAME",
  "COFFER_ALARM_EMAIL",
  "COFFER_LOG_RETENTION_DAYS",
  "COFFER_VPC_SUBNETS",
  "COFFER_VPC_SECURITY_GROUPS",
  "COFFER_TRACING",
  "COFFER_INGRESS",
  "COFFER_INGRESS_SUBNETS",
  "COFFER_INGRESS_ALLOWED_CIDRS",
  "COFFER_DOMAIN",
  "COFFER_CERTIFICATE_ARN",
  "COFFER_HOSTED_ZONE_ID",
  "COFFER_WAF_RATE_LIMIT",
  "COFFER_SECONDARY_REGION",
  "COFFER_BUNDLES",
  "COFFER_CONFIRM_REMOVE",
  "COFFER_INJECTOR_IMAGE",
  "COFFER_INJECTOR_AUDIENCE",
  "COFFER_INJECTOR_SIDECAR",
  "COFFER_INJECTOR_AUTH_PATH",
  "COFFER_INJECTOR_EXCLUDED_NAMESPACES",
];

/** Stand-in bundles: the infrastructure does not look inside them, and building is tested apart. */
function stubBundles(): string {
  const dir = mkdtempSync(join(tmpdir(), "coffer-bundles-"));
  for (const name of ["api", "revoker", "injector"]) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, `${name}.mjs`), "export const handler = async () => ({});\n");
  }
  return dir;
}

async function startCliRpc(rpcCalls: Deployment["rpcCalls"], built: string): Promise<Server> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const { id, method, params } = JSON.parse(body);
      rpcCalls.push({ method, params: params?.[0] });
      let result: unknown = null;
      if (method === "Provider.Aws.Bootstrap") {
        result = {
          asset: "coffer-test-assets",
          assetEcrRegistryId: ACCOUNT,
          assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
          state: "coffer-test-state",
          appsyncHttp: "",
          appsyncRealtime: "",
        };
      } else if (method === "Provider.Aws.Appsync") {
        result = { http: "", realtime: "" };
      } else if (method === "Runtime.Build") {
        const name = String(params?.[0]?.handler ?? "").split(".")[0] ?? "";
        result = { handler: params?.[0]?.handler, out: join(built, name), errors: [], sourcemaps: [] };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: id ?? 0, result, error: null }));
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return server;
}

/** The id of the root key under the mocks; a multi-Region key's starts with "mrk-". */
export const KEY_ID = "0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d";
export const MULTI_REGION_KEY_ID = "mrk-0f6b1c2d3e4f4a5b8c7d9e0f1a2b3c4d";

function arnFor(type: string, name: string, inputs: Record<string, Untyped>, region = REGION): string {
  switch (type) {
    case "aws:dynamodb/table:Table":
      return `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${inputs.name ?? `${name}-physical`}`;
    case "aws:kms/key:Key":
      return `arn:aws:kms:${region}:${ACCOUNT}:key/${inputs.multiRegion ? MULTI_REGION_KEY_ID : KEY_ID}`;
    case "aws:kms/replicaKey:ReplicaKey":
      return `arn:aws:kms:${region}:${ACCOUNT}:key/${MULTI_REGION_KEY_ID}`;
    case "aws:iam/role:Role":
      return `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? name}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${region}:${ACCOUNT}:log-group:${inputs.name}`;
    case "aws:lambda/function:Function":
      return `arn:aws:lambda:${region}:${ACCOUNT}:function:${inputs.name ?? name}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${region}:${ACCOUNT}:${name}`;
    default:
      return `arn:aws:${type.split(":")[1]?.split("/")[0]}:${region}:${ACCOUNT}:${name}`;
  }
}

/** What aws.iam.getPolicyDocument would render: the same JSON AWS receives. */
function policyDocument(statements: Untyped[] = []): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((statement) => ({
      ...(statement.sid ? { Sid: statement.sid } : {}),
      Effect: statement.effect ?? "Allow",
      Action: statement.actions,
      Resource: statement.resources,
      ...(statement.principals
        ? {
            Principal: Object.fromEntries(
              statement.principals.map((p: Untyped) => [p.type === "AWS" ? "AWS" : p.type, p.identifiers]),
            ),
          }
        : {}),
      ...(statement.conditions?.length
        ? {
            Condition: statement.conditions.reduce((all: Untyped, c: Untyped) => {
              all[c.test] = { ...all[c.test], [c.variable]: c.values };
              return all;
            }, {}),
          }
        : {}),
    })),
  });
}

/**
 * The part of @pulumi/pulumi this harness uses. Its types live in .sst/platform, which a
 * fresh clone does not have when `tsc` runs, so they are spelled out here.
 */
interface PulumiForTests {
  runtime: {
    setMocks(
      mocks: {
        newResource(args: { type: string; name: string; inputs: Untyped; provider?: string }): {
          id: string;
          state: Record<string, Untyped>;
        };
        call(args: { token: string; inputs: Untyped; provider?: string }): Record<string, Untyped>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): void;
    registerStackTransformation(
      transformation: (args: { type: string; name: string; opts: RecordedOptions }) => undefined,
    ): void;
    runInPulumiStack(init: () => Promise<unknown>): Promise<unknown>;
  };
}

/** Resolves an output (or a plain value) to its value under the mocks. */
export function resolved<T>(output: Untyped): Promise<T> {
  return new Promise((resolve) => (output?.apply ? output.apply((v: T) => resolve(v)) : resolve(output)));
}

export async function deployUnderMocks(options: {
  stage: string;
  env?: Record<string, string>;
}): Promise<Deployment> {
  await ensurePlatform();
  const { stage } = options;
  for (const name of SETTINGS_VARIABLES) delete process.env[name];
  const bundles = stubBundles();
  // The stage's region, as the settings read it to tell the second region from it.
  Object.assign(process.env, { COFFER_BUNDLES: bundles, AWS_REGION: REGION }, options.env ?? {});

  const resources: Recorded[] = [];
  const recordedOptions = new Map<string, RecordedOptions>();
  const rpcCalls: Deployment["rpcCalls"] = [];
  // Each aws provider's region, by the id a resource's provider reference ends with.
  const providerRegions = new Map<string, string>();
  const regionOf = (provider: string | undefined) =>
    providerRegions.get(provider?.split("::").pop() ?? "") ?? REGION;
  const server = await startCliRpc(rpcCalls, bundles);

  try {
    const pulumi: PulumiForTests = await import(join(PLATFORM_DIR, "node_modules/@pulumi/pulumi/index.js"));
    pulumi.runtime.setMocks(
      {
        newResource(args) {
          const region = regionOf(args.provider);
          if (args.type === "pulumi:providers:aws")
            providerRegions.set(`${args.name}-id`, args.inputs.region);
          resources.push({ type: args.type, name: args.name, inputs: args.inputs, region });
          const arn = arnFor(args.type, args.name, args.inputs, region);
          return {
            id: `${args.name}-id`,
            state: {
              ...args.inputs,
              arn,
              name: args.inputs.name ?? `${args.name}-physical`,
              ...(args.type === "aws:kms/key:Key" || args.type === "aws:kms/replicaKey:ReplicaKey"
                ? { keyId: arn.split("/")[1] }
                : {}),
              ...(args.type === "aws:lambda/functionUrl:FunctionUrl"
                ? { functionUrl: `https://${args.name.toLowerCase()}.lambda-url.${region}.on.aws/` }
                : {}),
              ...(args.type === "aws:lambda/function:Function"
                ? { qualifiedArn: `${arn}:$LATEST`, invokeArn: `${arn}/invocations` }
                : {}),
              ...(args.type === "aws:lb/loadBalancer:LoadBalancer"
                ? { dnsName: `${args.name.toLowerCase()}.${REGION}.elb.amazonaws.com`, zoneId: ELB_ZONE_ID }
                : {}),
              ...(args.type === "aws:acm/certificate:Certificate"
                ? {
                    domainValidationOptions: [
                      {
                        domainName: args.inputs.domainName,
                        resourceRecordName: `_validation.${args.inputs.domainName}.`,
                        resourceRecordType: "CNAME",
                        resourceRecordValue: "_validation.acm-validations.aws.",
                      },
                    ],
                  }
                : {}),
              ...(args.type === "aws:route53/record:Record" ? { fqdn: args.inputs.name } : {}),
            },
          };
        },
        call(args) {
          switch (args.token) {
            case "aws:index/getPartition:getPartition":
              return { partition: "aws", dnsSuffix: "amazonaws.com" };
            case "aws:index/getRegion:getRegion":
              return { name: regionOf(args.provider), region: regionOf(args.provider) };
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "deployer" };
            case "aws:ec2/getSubnet:getSubnet":
              return { ...args.inputs, vpcId: SUBNET_VPC };
            case "aws:iam/getPolicyDocument:getPolicyDocument":
              return { ...args.inputs, json: policyDocument(args.inputs.statements) };
            default:
              return args.inputs;
          }
        },
      },
      "coffer",
      stage,
      false, // not a preview: apply() callbacks run with the mocked values
    );

    const g = globalThis as Record<string, unknown>;
    const shim = await import(join(PLATFORM_DIR, "src/shim/run.js"));
    for (const [key, value] of Object.entries(shim)) g[key] = value;
    const config = (await import(join(ROOT, "sst.config.ts"))).default;
    const app = await config.app({ stage });
    // What the CLI passes to the deploy program as esbuild defines.
    g.$app = {
      name: app.name,
      stage,
      removal: app.removal,
      protect: Boolean(app.protect),
      providers: { aws: { region: REGION } },
    };
    g.$cli = {
      command: "deploy",
      dev: false,
      paths: {
        home: join(tmpdir(), "sst-home"),
        root: ROOT,
        work: join(ROOT, ".sst"),
        platform: PLATFORM_DIR,
      },
      state: { version: {} },
    };
    g.$dev = false;
    g.aws = await import(join(PLATFORM_DIR, "node_modules/@pulumi/aws/index.js"));
    g.sst = await import(join(PLATFORM_DIR, "src/components/index.ts"));

    const { run } = await import(join(PLATFORM_DIR, "src/auto/run.ts"));
    // Registered after SST's own transformations, so it sees the options they set.
    let registeredOwn = false;
    const program = async () => {
      if (!registeredOwn) {
        registeredOwn = true;
        pulumi.runtime.registerStackTransformation((args) => {
          recordedOptions.set(`${args.type}::${args.name}`, {
            retainOnDelete: args.opts.retainOnDelete,
            protect: args.opts.protect,
          });
          return undefined;
        });
      }
      return config.run();
    };
    let rawOutputs: Record<string, unknown> = {};
    // The root stack resource the Pulumi engine would create around the program.
    await pulumi.runtime.runInPulumiStack(async () => {
      rawOutputs = await run(program);
      return rawOutputs;
    });
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rawOutputs)) outputs[key] = await resolved(value);
    await settled(() => resources.length);

    return {
      stage,
      app: { name: app.name, removal: app.removal, protect: Boolean(app.protect) },
      resources,
      options: recordedOptions,
      rpcCalls,
      outputs,
      of: (type) => resources.filter((r) => r.type === type),
      one(type, name) {
        const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
        if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
        return found[0]!;
      },
    };
  } finally {
    server.close();
    rmSync(bundles, { recursive: true, force: true });
  }
}

/** Waits until registrations stop arriving: components register children inside apply(). */
async function settled(count: () => number, quietMs = 400, maxMs = 15_000): Promise<void> {
  const start = Date.now();
  let last = -1;
  while (Date.now() - start < maxMs) {
    const now = count();
    if (now === last) return;
    last = now;
    await new Promise((done) => setTimeout(done, quietMs));
  }
}
