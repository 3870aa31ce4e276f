/**
 * `coffer secrets enable|disable|list|tune` and `coffer auth enable|disable|list|tune`:
 * the mount tables at sys/mounts and sys/auth, with the vault CLI's flags and messages.
 * The two families differ only in their API path and in how they name what they mount.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction } from "./exit-codes.ts";
import { durationArgument, keyValueArgument, nonNegativeInteger, trimPath } from "./input.ts";
import { columns, outputFormat, printFormatted, printSuccess } from "./output.ts";

interface MountFamily {
  group: "secrets" | "auth";
  api: "sys/mounts" | "sys/auth";
  noun: string;
  description: string;
  enabled: (type: string, path: string) => string;
  example: string;
}

const FAMILIES: readonly MountFamily[] = [
  {
    group: "secrets",
    api: "sys/mounts",
    noun: "secrets engine",
    description: "enable, list, tune and disable secrets engines (sys/mounts)",
    enabled: (type, path) => `Enabled the ${type} secrets engine at: ${path}`,
    example: "coffer secrets enable -path=team kv-v2",
  },
  {
    group: "auth",
    api: "sys/auth",
    noun: "auth method",
    description: "enable, list, tune and disable auth methods (sys/auth)",
    enabled: (type, path) => `Enabled ${type} auth method at: ${path}`,
    example: "coffer auth enable -path=k8s-prod kubernetes",
  },
];

interface TuneOptions extends ClientOptions {
  description?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  options?: Record<string, string>;
  version?: number;
}

interface EnableOptions extends TuneOptions {
  path?: string;
}

/** The mount options, with -version as the vault CLI folds it in (options.version). */
function mountOptionsOf(options: TuneOptions): Record<string, string> | undefined {
  if (options.version === undefined) return options.options;
  return { ...options.options, version: String(options.version) };
}

function withSettingOptions(command: Command, family: MountFamily): Command {
  command
    .option("--description <text>", `what the ${family.noun} is for`)
    .option("--default-lease-ttl <duration>", "default lease TTL of what it issues", durationArgument)
    .option("--max-lease-ttl <duration>", "maximum lease TTL of what it issues", durationArgument)
    .option("--options <key=value>", "a mount option (repeatable), e.g. version=2", keyValueArgument);
  if (family.group === "secrets") {
    command.option("--version <n>", "the engine's version (kv: 1 or 2)", nonNegativeInteger("the version"));
  }
  return command;
}

interface MountEntry {
  type?: string;
  accessor?: string;
  description?: string;
  options?: Record<string, string> | null;
  config?: { default_lease_ttl?: number; max_lease_ttl?: number };
}

function mountTable(mounts: Record<string, MountEntry>, detailed: boolean): string {
  const paths = Object.keys(mounts).sort();
  const ttl = (seconds: number | undefined) => (seconds ? String(seconds) : "system");
  if (!detailed) {
    return columns(
      ["Path", "Type", "Accessor", "Description"],
      paths.map((path) => {
        const mount = mounts[path] ?? {};
        return [path, mount.type ?? "", mount.accessor ?? "", mount.description ?? ""];
      }),
    );
  }
  return columns(
    ["Path", "Type", "Accessor", "Default TTL", "Max TTL", "Options", "Description"],
    paths.map((path) => {
      const mount = mounts[path] ?? {};
      const options = Object.entries(mount.options ?? {}).map(([key, value]) => `${key}=${value}`);
      return [
        path,
        mount.type ?? "",
        mount.accessor ?? "",
        ttl(mount.config?.default_lease_ttl),
        ttl(mount.config?.max_lease_ttl),
        options.length > 0 ? options.join(",") : "n/a",
        mount.description ?? "",
      ];
    }),
  );
}

function registerFamily(program: Command, family: MountFamily): void {
  const group = commandGroup(program, family.group, family.description);

  withSettingOptions(
    clientCommand(group, "enable <type>", `enable a ${family.noun} at <type>/ or at --path`),
    family,
  )
    .option("--path <path>", `where to mount it (default: its type)`)
    .addHelpText("after", `\nExample:\n  ${family.example}\n`)
    .action(
      runAction(async (type: string, options: EnableOptions) => {
        const path = `${trimPath(options.path ?? type)}/`;
        const config: Record<string, string> = {};
        if (options.defaultLeaseTtl !== undefined) config.default_lease_ttl = options.defaultLeaseTtl;
        if (options.maxLeaseTtl !== undefined) config.max_lease_ttl = options.maxLeaseTtl;
        const body: Record<string, unknown> = { type: type.trim() };
        if (options.description !== undefined) body.description = options.description;
        if (Object.keys(config).length > 0) body.config = config;
        const mountOptions = mountOptionsOf(options);
        if (mountOptions) body.options = mountOptions;
        const connection = await connect(options);
        await connection.request("POST", `${family.api}/${path}`, { body });
        printSuccess(options, family.enabled(type.trim(), path));
      }),
    );

  clientCommand(
    group,
    "disable <path>",
    `disable the ${family.noun} at a path, and delete what it holds`,
  ).action(
    runAction(async (pathArgument: string, options: ClientOptions) => {
      const path = `${trimPath(pathArgument)}/`;
      const connection = await connect(options);
      await connection.request("DELETE", `${family.api}/${path}`);
      printSuccess(options, `Disabled the ${family.noun} (if it existed) at: ${path}`);
    }),
  );

  clientCommand(group, "list", `list the enabled ${family.noun}s`)
    .option("--detailed", "also show TTLs and options")
    .action(
      runAction(async (options: ClientOptions & { detailed?: boolean }) => {
        const connection = await connect(options);
        const response = await connection.request("GET", family.api);
        const mounts = (response?.data ?? {}) as Record<string, MountEntry>;
        const format = outputFormat(options);
        if (format !== "table") return printFormatted(format, mounts);
        process.stdout.write(mountTable(mounts, Boolean(options.detailed)));
      }),
    );

  withSettingOptions(
    clientCommand(group, "tune <path>", `change the settings of the ${family.noun} at a path`),
    family,
  )
    .addHelpText("after", `\nExample:\n  coffer ${family.group} tune -max-lease-ttl=24h <path>\n`)
    .action(
      runAction(async (pathArgument: string, options: TuneOptions) => {
        const path = `${trimPath(pathArgument)}/`;
        const body: Record<string, unknown> = {};
        if (options.description !== undefined) body.description = options.description;
        if (options.defaultLeaseTtl !== undefined) body.default_lease_ttl = options.defaultLeaseTtl;
        if (options.maxLeaseTtl !== undefined) body.max_lease_ttl = options.maxLeaseTtl;
        const mountOptions = mountOptionsOf(options);
        if (mountOptions) body.options = mountOptions;
        const connection = await connect(options);
        await connection.request("POST", `${family.api}/${path}tune`, { body });
        printSuccess(options, `Tuned the ${family.noun} at: ${path}`);
      }),
    );
}

export function registerMountCommands(program: Command): void {
  for (const family of FAMILIES) registerFamily(program, family);
}
