/**
 * The API function: the broker's HTTP app behind a function URL or a load balancer
 * (functions/api-handler.ts). The broker is built once per execution environment and
 * reused by every invocation.
 */
import { fileURLToPath } from "node:url";
import { createApiHandler } from "./api-handler.ts";
import { awsConfigFromEnv, createAwsBroker, createHomeBroker } from "./aws-broker.ts";
import { lambdaLogging } from "./log-lines.ts";
import { createMetrics, metricsNamespaceFromEnv } from "./metrics.ts";
import { tracingFromEnv } from "./tracing.ts";
import { uiFilesIn } from "./ui-files.ts";
import { warmUp } from "./warm-up.ts";

const config = { ...awsConfigFromEnv(), ...lambdaLogging, tracing: await tracingFromEnv() };
const broker = await createAwsBroker(config);
// Outside the home region, requests that need exact conditional writes are served there.
const home = await createHomeBroker(config);
await warmUp(broker);

const metricsNamespace = metricsNamespaceFromEnv();

export const handler = createApiHandler(broker, {
  ...(metricsNamespace && { metrics: createMetrics(metricsNamespace, "api") }),
  ...(home && { home }),
  // The UI build puts the web UI's files beside the bundle (scripts/build-ui.ts).
  ui: uiFilesIn(fileURLToPath(new URL("./ui/", import.meta.url))),
});
