/**
 * How an injector deployment injects: the broker's address, the agent's image, the
 * audience of the projected token, and whether the long-running agent is a native
 * sidecar or a regular container. The edges read them (functions/injector.ts from its
 * environment, `coffer injector` from flags and the environment) through
 * `readInjectorOptions`, which names every problem at once.
 */
import { VERSION } from "../version.ts";

export type SidecarMode = "native" | "container";

export interface AgentResources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

export interface InjectorOptions {
  /** The broker's URL, unless a pod's `service` annotation names another. */
  address?: string;
  image: string;
  /** The audience of the projected token the agent logs in with; the role's `audience`. */
  audience: string;
  /** native: an init container with restartPolicy Always (Kubernetes 1.29+); container: a regular one. */
  sidecar: SidecarMode;
  authPath: string;
  /** Lifetime of the projected token; the kubelet renews it at 80%. */
  tokenExpirationSeconds: number;
  /** Namespaces whose pods are never injected (Vault's injector refuses kube-system and kube-public). */
  excludedNamespaces: readonly string[];
  resources: AgentResources;
}

export const DEFAULT_IMAGE = `registry.example.com/coffer:${VERSION}`;
export const DEFAULT_AUDIENCE = "coffer";
export const DEFAULT_AUTH_PATH = "auth/kubernetes";
/** Kubernetes' minimum; the agent needs the token only to log in. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 600;
export const DEFAULT_EXCLUDED_NAMESPACES = ["kube-system", "kube-public"] as const;
/**
 * Measured from the agent run from source (docs/kubernetes.md#resources): it peaks at
 * 125 MB resident while it starts and renders, and holds about 98 MB as a sidecar; its
 * start takes 1.3 s of CPU, then next to none. The memory request covers the peak, the
 * limit leaves half again; the CPU request is what it uses at rest.
 */
export const DEFAULT_RESOURCES: AgentResources = {
  requests: { cpu: "50m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "192Mi" },
};

export const DEFAULT_OPTIONS: InjectorOptions = {
  image: DEFAULT_IMAGE,
  audience: DEFAULT_AUDIENCE,
  sidecar: "native",
  authPath: DEFAULT_AUTH_PATH,
  tokenExpirationSeconds: DEFAULT_TOKEN_EXPIRATION_SECONDS,
  excludedNamespaces: DEFAULT_EXCLUDED_NAMESPACES,
  resources: DEFAULT_RESOURCES,
};

/** The settings by their environment names; `coffer injector` flags map onto the same. */
export const OPTION_VARIABLES = {
  address: "COFFER_INJECTOR_ADDRESS",
  image: "COFFER_INJECTOR_IMAGE",
  audience: "COFFER_INJECTOR_AUDIENCE",
  sidecar: "COFFER_INJECTOR_SIDECAR",
  authPath: "COFFER_INJECTOR_AUTH_PATH",
  excludedNamespaces: "COFFER_INJECTOR_EXCLUDED_NAMESPACES",
} as const;

export class InjectorOptionsError extends Error {
  override readonly name = "InjectorOptionsError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid injector settings:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}

export function readInjectorOptions(values: Readonly<Record<string, string | undefined>>): InjectorOptions {
  const problems: string[] = [];
  const read = (name: keyof typeof OPTION_VARIABLES) => {
    const value = values[OPTION_VARIABLES[name]]?.trim();
    return value === "" ? undefined : value;
  };
  const options: InjectorOptions = { ...DEFAULT_OPTIONS };
  const address = read("address");
  if (address !== undefined) {
    if (isHttpUrl(address)) options.address = address.replace(/\/+$/, "");
    else problems.push(`${OPTION_VARIABLES.address}: "${address}" is not an http(s) URL`);
  }
  options.image = read("image") ?? options.image;
  options.audience = read("audience") ?? options.audience;
  const sidecar = read("sidecar") ?? options.sidecar;
  if (sidecar === "native" || sidecar === "container") options.sidecar = sidecar;
  else problems.push(`${OPTION_VARIABLES.sidecar}: "${sidecar}" is neither native nor container`);
  options.authPath = read("authPath") ?? options.authPath;
  const excluded = read("excludedNamespaces");
  if (excluded !== undefined) {
    options.excludedNamespaces = excluded
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
  }
  if (problems.length > 0) throw new InjectorOptionsError(problems);
  return options;
}
