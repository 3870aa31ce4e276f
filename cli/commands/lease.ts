/**
 * `coffer lease`: look up, renew and revoke the leases of dynamic secrets (sys/leases/).
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction } from "./exit-codes.ts";
import { leaseFields, leaseRows } from "./lease-output.ts";
import { outputFormat, printField, printJson, printSuccess, printTable, rowsOf } from "./output.ts";

export function registerLeaseCommands(program: Command): void {
  const lease = commandGroup(program, "lease", "look up, renew and revoke leases");

  clientCommand(lease, "lookup <lease-id>", "show a lease: when it was issued, when it expires").action(
    runAction(async (leaseId: string, options: ClientOptions) => {
      const connection = await connect(options);
      const response = await connection.request("PUT", "sys/leases/lookup", { body: { lease_id: leaseId } });
      if (options.field) return printField(response?.data, options.field);
      if (outputFormat(options) === "json") return printJson(response);
      printTable(rowsOf(response?.data));
    }),
  );

  clientCommand(lease, "renew <lease-id>", "extend a lease")
    .option("--increment <duration>", 'the extension asked for, e.g. "1h" (default: the lease\'s own TTL)')
    .action(
      runAction(async (leaseId: string, options: ClientOptions & { increment?: string }) => {
        const connection = await connect(options);
        const body = {
          lease_id: leaseId,
          ...(options.increment === undefined ? {} : { increment: options.increment }),
        };
        const response = await connection.request("PUT", "sys/leases/renew", { body });
        if (!response) throw new Error("the server answered the renewal without a lease");
        if (options.field) return printField(leaseFields(response), options.field);
        if (outputFormat(options) === "json") return printJson(response);
        printTable(leaseRows(response));
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
