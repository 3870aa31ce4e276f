/**
 * `coffer status`: the server's seal and HA status (sys/seal-status, sys/leader), as
 * `vault status` prints it. It needs no token. Its exit code is the vault CLI's for this
 * command: 0 unsealed, 2 sealed (Coffer never is), 1 when the status cannot be read.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand } from "./client-command.ts";
import { connect } from "./connection.ts";
import { reportError } from "./exit-codes.ts";
import { outputFormat, printField, printFormatted, printTable, type Rows } from "./output.ts";

/** `vault status`'s own exit codes, which differ from the other commands'. */
const EXIT_SEALED = 2;
const EXIT_STATUS_UNKNOWN = 1;

interface SealStatus {
  type?: string;
  initialized?: boolean;
  sealed?: boolean;
  t?: number;
  n?: number;
  version?: string;
  build_date?: string;
  storage_type?: string;
  cluster_name?: string;
  cluster_id?: string;
  recovery_seal?: boolean;
}

function statusRows(status: SealStatus, haEnabled: boolean): Rows {
  const recovery = status.recovery_seal ? "Recovery " : "";
  return [
    [`${recovery}Seal Type`, status.type],
    ["Initialized", status.initialized],
    ["Sealed", status.sealed],
    [`Total ${recovery}Shares`, status.n],
    ["Threshold", status.t],
    ["Version", status.version],
    ["Build Date", status.build_date],
    ["Storage Type", status.storage_type],
    ...(status.cluster_name && status.cluster_id
      ? ([
          ["Cluster Name", status.cluster_name],
          ["Cluster ID", status.cluster_id],
        ] as const)
      : []),
    ["HA Enabled", haEnabled],
  ];
}

export function registerStatusCommand(program: Command): void {
  clientCommand(program, "status", "show whether the server is initialized and unsealed (no token needed)")
    .addHelpText("after", "\nExit codes: 0 unsealed, 1 the status could not be read, 2 sealed.\n")
    .action(async (options: ClientOptions) => {
      try {
        const connection = await connect(options, "optional");
        const [seal, leader] = await Promise.all([
          connection.request("GET", "sys/seal-status"),
          connection.request("GET", "sys/leader"),
        ]);
        // Both answer without Vault's envelope: the status is the body itself.
        const status = (seal ?? {}) as unknown as SealStatus;
        const haEnabled = Boolean((leader as unknown as { ha_enabled?: boolean } | undefined)?.ha_enabled);
        const output = { ...status, ha_enabled: haEnabled };
        if (options.field) printField(output, options.field);
        else {
          const format = outputFormat(options);
          if (format === "table") printTable(statusRows(status, haEnabled));
          else await printFormatted(format, output);
        }
        if (status.sealed) process.exitCode = EXIT_SEALED;
      } catch (error) {
        reportError(error);
        process.exitCode = EXIT_STATUS_UNKNOWN;
      }
    });
}
