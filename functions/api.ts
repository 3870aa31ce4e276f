/**
 * The API function: the broker's HTTP app behind a Lambda Function URL or API Gateway.
 * The broker is built once per execution environment and reused by every invocation.
 */
import { fileURLToPath } from "node:url";
import { handle } from "hono/aws-lambda";
import { createApp } from "../shared/app.ts";
import { awsConfigFromEnv, createAwsBroker } from "./aws-broker.ts";
import { uiFilesIn } from "./ui-files.ts";
import { warmUp } from "./warm-up.ts";

const broker = await createAwsBroker(awsConfigFromEnv());
await warmUp(broker);

const app = createApp(broker, {
  // Function URL and HTTP API events carry the path as sent in rawPath; REST API events in path.
  rawPath: (env) => {
    const event = (env as { event?: { rawPath?: string; path?: string } } | undefined)?.event;
    return event?.rawPath ?? event?.path;
  },
  // The UI build puts the web UI's files beside the bundle (scripts/build-ui.ts).
  ui: uiFilesIn(fileURLToPath(new URL("./ui/", import.meta.url))),
});

export const handler = handle(app);
