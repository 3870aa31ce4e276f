/**
 * A small kubelet for tests: runs a pod spec's containers as local processes, with each
 * container's volume mounts at their real paths. Every container gets a private mount
 * namespace (unshare) in which its volumes are bind-mounted where its volumeMounts say,
 * read-only where they say so, and runs as its securityContext's user and group
 * (setpriv), with its own command and environment: what the pod spec says, unchanged.
 *
 * Volumes are directories: an emptyDir is an empty one anyone may write (as the kubelet
 * makes it), a projected service account token holds the token the test gives, and a
 * downwardAPI volume holds the pod's annotations its items name. The `coffer` program is
 * this checkout's. Needs root (as CI runs), to mount and to change user.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Container, Pod } from "../../shared/injector/kubernetes.ts";
import { COFFER_SCRIPT } from "./coffer-command.ts";

const BIN = COFFER_SCRIPT;

export interface RunningContainer {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export interface PodRunner {
  /**
   * Whether containers run as their securityContext's user. A checkout that user cannot
   * read (one under /root) makes them run as root instead, and says so on stderr.
   */
  readonly asTheirUsers: boolean;
  /** Where a volume's content is on this machine. */
  volumeDirectory(name: string): string;
  start(container: Container): RunningContainer;
  /** Removes the mount points it had to create on this machine. */
  close(): Promise<void>;
}

type VolumeSource = {
  name: string;
  emptyDir?: unknown;
  projected?: { sources: { serviceAccountToken?: { path: string; audience?: string } }[] };
  downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
};

const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

async function missingParents(path: string): Promise<string[]> {
  const created: string[] = [];
  let current = path;
  while (current !== "/") {
    try {
      await stat(current);
      break;
    } catch {
      created.unshift(current);
      current = current.slice(0, current.lastIndexOf("/")) || "/";
    }
  }
  return created;
}

export async function preparePod(
  pod: Pod,
  root: string,
  serviceAccountToken: (audience: string | undefined) => Promise<string>,
): Promise<PodRunner> {
  const directories = new Map<string, string>();
  for (const volume of (pod.spec.volumes ?? []) as VolumeSource[]) {
    const dir = join(root, "volumes", volume.name);
    await mkdir(dir, { recursive: true });
    directories.set(volume.name, dir);
    if (volume.emptyDir !== undefined) await chmod(dir, 0o777);
    for (const source of volume.projected?.sources ?? []) {
      const token = source.serviceAccountToken;
      if (token)
        await writeFile(join(dir, token.path), await serviceAccountToken(token.audience), { mode: 0o644 });
    }
    for (const item of volume.downwardAPI?.items ?? []) {
      const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef.fieldPath)?.[1];
      if (annotation === undefined)
        throw new Error(`unsupported downwardAPI field ${item.fieldRef.fieldPath}`);
      await writeFile(join(dir, item.path), pod.metadata?.annotations?.[annotation] ?? "", { mode: 0o644 });
    }
  }
  // Mount points must exist on this machine; the ones made here are removed afterwards.
  const created: string[] = [];
  for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const mount of container.volumeMounts ?? []) {
      const parents = await missingParents(mount.mountPath);
      await mkdir(mount.mountPath, { recursive: true });
      created.push(...parents);
    }
  }
  const podSecurity = pod.spec.securityContext ?? {};
  const users = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map(
    (container) => container.securityContext?.runAsUser ?? podSecurity.runAsUser,
  );
  const asTheirUsers = users.every(
    (user) =>
      user === undefined ||
      spawnSync("setpriv", [
        `--reuid=${user}`,
        `--regid=${user}`,
        "--clear-groups",
        "--",
        process.execPath,
        BIN,
        "--version",
      ]).status === 0,
  );
  if (!asTheirUsers) {
    process.stderr.write(
      "pod-runner: this checkout is not readable by the pod's users; its containers run as root\n",
    );
  }
  return {
    asTheirUsers,
    volumeDirectory(name) {
      const dir = directories.get(name);
      if (!dir) throw new Error(`the pod has no volume ${name}`);
      return dir;
    },
    start(container) {
      const mounts = (container.volumeMounts ?? []).flatMap((mount) => {
        const source = directories.get(mount.name);
        if (!source) throw new Error(`${container.name} mounts the missing volume ${mount.name}`);
        return [
          `mount --bind ${quote(source)} ${quote(mount.mountPath)}`,
          ...(mount.readOnly ? [`mount -o remount,bind,ro ${quote(mount.mountPath)}`] : []),
        ];
      });
      const [program, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
      const argv = program === "coffer" ? [process.execPath, BIN, ...args] : [program as string, ...args];
      const user = container.securityContext?.runAsUser ?? podSecurity.runAsUser;
      const group = container.securityContext?.runAsGroup ?? podSecurity.runAsGroup ?? user;
      const identity =
        user === undefined || !asTheirUsers
          ? []
          : ["setpriv", `--reuid=${user}`, `--regid=${group}`, "--clear-groups", "--"];
      const script = [...mounts, `exec ${[...identity, ...argv].map(quote).join(" ")}`].join(" && ");
      const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
      for (const variable of container.env ?? []) {
        if (variable.value !== undefined) env[variable.name] = variable.value;
      }
      const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-ec", script], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
      return { name: container.name, child, output: () => output, exited };
    },
    async close() {
      for (const dir of created.reverse()) await rm(dir, { recursive: true, force: true });
    },
  };
}
