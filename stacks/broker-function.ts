/**
 * One of the broker's Lambda functions, as both are deployed: a prebuilt bundle from
 * scripts/build.ts, Node.js 22 on arm64, a log group Coffer owns with its retention, and
 * an execution role that holds exactly the statements given (function-permissions.ts),
 * trusted by the Lambda service alone (lambda-trust.ts), with no managed policies: SST
 * would attach AWSLambdaBasicExecutionRole, which grants logs:* actions on "*".
 */
import type { Statement } from "./function-permissions.ts";
import { LAMBDA_TRUST_POLICY } from "./lambda-trust.ts";
import type { StageSettings } from "./stage-settings.ts";
import { traces, tracingStatements } from "./tracing.ts";
import { vpcStatements } from "./vpc.ts";

export const RUNTIME = "nodejs22.x";
export const ARCHITECTURE = "arm64";

export interface BrokerFunctionArgs {
  settings: StageSettings;
  /** Short name: part of the function name and the log group. */
  name: string;
  description: string;
  /** The bundle directory (build/<name>) and the handler inside it. */
  bundle: string;
  handler: string;
  memory: `${number} MB`;
  timeout: `${number} seconds`;
  environment: Record<string, $util.Input<string>>;
  statements: (logStreamsArn: $util.Output<string>) => Statement<$util.Input<string>>[];
  url?: boolean;
  /** The second region's provider, for the API deployed there (regions.ts). */
  provider?: aws.Provider;
}

/** arn:<partition>:ec2:<region>:<account>:*\/*, the EC2 resources a VPC function's role may touch. */
function ec2InAccount(): $util.Output<string> {
  const partition = aws.getPartitionOutput().partition;
  const region = aws.getRegionOutput().name;
  const account = aws.getCallerIdentityOutput({}).accountId;
  return $interpolate`arn:${partition}:ec2:${region}:${account}:*/*`;
}

export function createBrokerFunction(id: string, args: BrokerFunctionArgs) {
  const functionName = `${$app.name}-${args.settings.stage}-${args.name}`;
  const vpc = args.settings.vpc;
  const traced = traces(args.environment);
  const logGroup = new aws.cloudwatch.LogGroup(
    `${id}Logs`,
    { name: `/aws/lambda/${functionName}`, retentionInDays: args.settings.logRetentionDays },
    // Audit records live here: on production they stay when the stack goes.
    { retainOnDelete: args.settings.production, provider: args.provider },
  );

  const functionArgs: sst.aws.FunctionArgs = {
    name: functionName,
    description: args.description,
    bundle: args.bundle,
    handler: args.handler,
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    memory: args.memory,
    timeout: args.timeout,
    environment: args.environment,
    permissions: [
      ...args.statements($interpolate`${logGroup.arn}:*`),
      ...(vpc ? vpcStatements<$util.Input<string>>(ec2InAccount()) : []),
      ...(traced ? tracingStatements<$util.Input<string>>() : []),
    ],
    ...(vpc && { vpc: { privateSubnets: vpc.subnets, securityGroups: vpc.securityGroups } }),
    logging: { logGroup: logGroup.name },
    // Vault clients are not browsers: no CORS headers, so no page can call the broker.
    ...(args.url && { url: { cors: false } }),
    transform: {
      ...(traced && {
        function: (fn: aws.lambda.FunctionArgs) => {
          fn.tracingConfig = { mode: "Active" };
        },
      }),
      role: (role) => {
        role.assumeRolePolicy = LAMBDA_TRUST_POLICY;
        role.managedPolicyArns = [];
      },
    },
  };
  const fn = new sst.aws.Function(id, functionArgs, { provider: args.provider });
  return { fn, logGroup };
}
