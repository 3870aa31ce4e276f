/**
 * The API function. By default it has a Lambda function URL (HTTPS, no authorization at
 * the URL: every Vault request carries its own token), rather than an HTTP API because the
 * broker does its own routing, costs nothing per request at the edge, and is not cut off
 * at API Gateway's 30-second integration limit; docs/deploy.md weighs the trade-offs. A
 * stage whose ingress is a load balancer (ingress.ts) gets no function URL at all, so
 * nothing reaches the function around the load balancer, its allowed ranges and its WAF.
 */

import { brokerEnvironment } from "./broker-environment.ts";
import { createBrokerFunction } from "./broker-function.ts";
import { apiStatements } from "./function-permissions.ts";
import type { StageSettings } from "./stage-settings.ts";

export const API_MEMORY = "512 MB";
// SDK retries against a throttled KMS, DynamoDB or STS end well before this; then 503.
export const API_TIMEOUT = "10 seconds";

export interface ApiInput {
  settings: StageSettings;
  bundle: string;
  tableName: $util.Input<string>;
  tableArn: $util.Input<string>;
  keyArn: $util.Input<string>;
  /** With a second region: the other region's replica of the table (regions.ts). */
  otherTableArn?: $util.Input<string>;
  /** The second region's provider, for the API deployed there; the stage's region without. */
  provider?: aws.Provider;
}

export function createApi(input: ApiInput) {
  return createBrokerFunction(input.provider ? "SecondaryApi" : "Api", {
    settings: input.settings,
    name: "api",
    description: "Coffer: the Vault HTTP API",
    bundle: input.bundle,
    handler: "api.handler",
    memory: API_MEMORY,
    timeout: API_TIMEOUT,
    environment: brokerEnvironment(input.settings, input.tableName, input.keyArn),
    statements: (logStreamsArn) =>
      apiStatements({
        tableArn: input.tableArn,
        otherTableArn: input.otherTableArn,
        keyArn: input.keyArn,
        logStreamsArn,
        targetRoles: input.settings.targetRoles,
        targetRoleBoundary: input.settings.targetRoleBoundary,
      }),
    url: input.settings.ingress.kind === "function-url",
    provider: input.provider,
  });
}
