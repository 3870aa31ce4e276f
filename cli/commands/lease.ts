/**
 * `coffer lease`: look up, renew and revoke the leases of dynamic secrets (sys/leases/).
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction } from "./exit-codes.ts";
import { durationArgument } from "./input.ts";
import { printSecret, printSuccess } from "./output.ts";

export function registerLeaseCommands(program: Command): void {
  const lease = commandGroup(program, "lease", "look up, renew and revoke leases");

  clientCommand(lease, "lookup <lease-id>", "show a lease: when it was issued, when it expires").action(
    runAction(async (leaseId: string, options: ClientOptions) => {
      const connection = await connect(options);
      const response = await connection.request("PUT", "sys/leases/lookup", { body: { lease_id: leaseId } });
      if (!response) throw new Error("the server answered the lookup without a lease");
      await printSecret(response, options);
    }),
  );

  clientCommand(lease, "renew <lease-id>", "extend a lease")
    .option(
      "--increment <duration>",
      'the extension asked for, e.g. "1h" (default: the lease\'s own TTL)',
      durationArgument,
    )
    .action(
      runAction(async (leaseId: string, options: ClientOptions & { increment?: string }) => {
        const connection = await connect(options);
        const body = {
          lease_id: leaseId,
          ...(options.increment === undefined ? {} : { increment: options.increment }),
        };
        const response = await connection.request("PUT", "sys/leases/renew", { body });
        if (!response) throw new Error("the server answered the renewal without a lease");
        await printSecret(response, options);
      }),
    );

  clientCommand(lease, "revoke <lease-id>", "end a lease now: its secret stops working").action(
    runAction(async (leaseId: string, options: ClientOptions) => {
      const connection = await connect(options);
      await connection.request("PUT", "sys/leases/revoke", { body: { lease_id: leaseId } });
      printSuccess(options, `Revoked lease: ${leaseId}`);
    }),
  );

  clientCommand(
    lease,
    "revoke-prefix <prefix>",
    "end every lease whose id starts with the prefix (needs sudo)",
  )
    .addHelpText("after", "\nExample:\n  coffer lease revoke-prefix aws/creds/deploy\n")
    .action(
      runAction(async (prefix: string, options: ClientOptions) => {
        const connection = await connect(options);
        await connection.request("PUT", `sys/leases/revoke-prefix/${prefix.replace(/^\/+/, "")}`);
        printSuccess(options, `Revoked every lease with the prefix: ${prefix}`);
      }),
    );
}
