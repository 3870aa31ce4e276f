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
}

export function createApi(input: ApiInput) {
  return createBrokerFunction("Api", {
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
        keyArn: input.keyArn,
        logStreamsArn,
        targetRoles: input.settings.targetRoles,
        targetRoleBoundary: input.settings.targetRoleBoundary,
      }),
    url: input.settings.ingress.kind === "function-url",
  });
}
