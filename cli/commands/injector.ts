/**
 * `coffer injector --listen :8443 --tls-cert FILE --tls-key FILE`: the sidecar injector's
 * webhook as an HTTPS server in the cluster (deploy/kubernetes/injector/). Settings come
 * from flags, else from the same COFFER_INJECTOR_* variables as the Lambda function.
 */
import type { Command } from "commander";
import { EXIT_LOCAL, exitWithUsageCode } from "./exit-codes.ts";

interface InjectorFlags {
  listen: string;
  tlsCert: string;
  tlsKey: string;
  address?: string;
  agentImage?: string;
  audience?: string;
  sidecar?: string;
  authPath?: string;
  excludedNamespaces?: string;
}

export function registerInjectorCommand(program: Command): void {
  exitWithUsageCode(program.command("injector"))
    .description("serve the sidecar injector's mutating admission webhook over HTTPS")
    .option("--listen <address>", "where to listen, such as :8443 or 127.0.0.1:8443", ":8443")
    .requiredOption("--tls-cert <file>", "the server's certificate (PEM), read again when it changes")
    .requiredOption("--tls-key <file>", "its private key (PEM)")
    .option("--address <url>", "the broker's address for the agents (COFFER_INJECTOR_ADDRESS)")
    .option("--agent-image <image>", "the agent's image (COFFER_INJECTOR_IMAGE)")
    .option(
      "--audience <audience>",
      "the projected token's audience (COFFER_INJECTOR_AUDIENCE, default coffer)",
    )
    .option("--sidecar <mode>", "native or container (COFFER_INJECTOR_SIDECAR, default native)")
    .option(
      "--auth-path <path>",
      "the default auth mount (COFFER_INJECTOR_AUTH_PATH, default auth/kubernetes)",
    )
    .option(
      "--excluded-namespaces <list>",
      "namespaces never injected, comma-separated (COFFER_INJECTOR_EXCLUDED_NAMESPACES, default kube-system,kube-public)",
    )
    .action(async (flags: InjectorFlags) => {
      const [
        { InjectorOptionsError, OPTION_VARIABLES, readInjectorOptions },
        { parseListen, startInjectorServer },
        { jsonLog },
      ] = await Promise.all([
        import("../../shared/injector/injector-options.ts"),
        import("../injector-server.ts"),
        import("../agent/log.ts"),
      ]);
      const listen = parseListen(flags.listen);
      const fromFlags: Record<string, string | undefined> = {
        [OPTION_VARIABLES.address]: flags.address,
        [OPTION_VARIABLES.image]: flags.agentImage,
        [OPTION_VARIABLES.audience]: flags.audience,
        [OPTION_VARIABLES.sidecar]: flags.sidecar,
        [OPTION_VARIABLES.authPath]: flags.authPath,
        [OPTION_VARIABLES.excludedNamespaces]: flags.excludedNamespaces,
      };
      const settings = { ...process.env };
      for (const [name, value] of Object.entries(fromFlags)) if (value !== undefined) settings[name] = value;
      let injector: ReturnType<typeof readInjectorOptions>;
      try {
        if (!listen)
          throw new InjectorOptionsError([`--listen: "${flags.listen}" is not an address such as :8443`]);
        injector = readInjectorOptions(settings);
      } catch (error) {
        if (!(error instanceof InjectorOptionsError)) throw error;
        process.stderr.write(`Error: ${error.message}\n`);
        process.exitCode = EXIT_LOCAL;
        return;
      }
      const log = jsonLog();
      const server = await startInjectorServer({
        ...(listen as { host: string; port: number }),
        certFile: flags.tlsCert,
        keyFile: flags.tlsKey,
        injector,
        log,
      });
      log("info", "injector listening", {
        url: server.url,
        sidecar: injector.sidecar,
        address: injector.address,
      });
      const stop = (signal: string) => {
        log("info", "signal received", { signal });
        void server.close().then(() => process.exit(0));
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
}
