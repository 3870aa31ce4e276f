/**
 * The API function: the broker's HTTP app behind a function URL or a load balancer
 * (functions/api-handler.ts). The broker is built once per execution environment and
 * reused by every invocation.
 */
import { fileURLToPath } from "node:url";
import { createApiHandler } from "./api-handler.ts";
import { awsConfigFromEnv, createAwsBroker } from "./aws-broker.ts";
import { lambdaLogging } from "./log-lines.ts";
import { createMetrics, metricsNamespaceFromEnv } from "./metrics.ts";
import { tracingFromEnv } from "./tracing.ts";
import { uiFilesIn } from "./ui-files.ts";
import { warmUp } from "./warm-up.ts";

const broker = await createAwsBroker({
  ...awsConfigFromEnv(),
  ...lambdaLogging,
  tracing: await tracingFromEnv(),
});
await warmUp(broker);

const metricsNamespace = metricsNamespaceFromEnv();

export const handler = createApiHandler(broker, {
  ...(metricsNamespace && { metrics: createMetrics(metricsNamespace, "api") }),
  // The UI build puts the web UI's files beside the bundle (scripts/build-ui.ts).
  ui: uiFilesIn(fileURLToPath(new URL("./ui/", import.meta.url))),
});
