/**
 * What the injector adds to a pod, as a JSON Patch:
 *
 * - volumes: the secrets (an in-memory emptyDir per secret-volume-path), the projected
 *   service account token for Coffer's audience, and the agent's configurations (downwardAPI
 *   files of the pod's own `coffer.dev/agent-config-init` and `coffer.dev/agent-config`
 *   annotations);
 * - the secrets mounted read-only into the chosen containers and every init container;
 * - `coffer-agent-init`, whose configuration exits once every file is written, and
 *   `coffer-agent`, which keeps them fresh: a native sidecar (an init container with
 *   restartPolicy Always, so Jobs complete) or, for clusters older than 1.29, a container;
 * - the annotations: the status (`agent-inject-status: injected`), the configurations,
 *   and the warnings, where `kubectl describe pod` shows them.
 *
 * The agent's containers pass the `restricted` Pod Security Standard whatever the pod says.
 */
import {
  agentConfig,
  CONFIG_DIRECTORY,
  INIT_CONFIG_FILE_NAME,
  SIDECAR_CONFIG_FILE_NAME,
  TOKEN_DIRECTORY,
} from "./agent-config.ts";
import { AnnotationError, COFFER_PREFIX } from "./annotations.ts";
import type { InjectionPlan } from "./injection-plan.ts";
import type { InjectorOptions } from "./injector-options.ts";
import type { Container, PatchOperation, Pod, Volume, VolumeMount } from "./kubernetes.ts";
import { createPodPatch } from "./pod-patch.ts";

export const SECRETS_VOLUME = "coffer-secrets";
export const TOKEN_VOLUME = "coffer-token";
export const CONFIG_VOLUME = "coffer-agent-config";
export const INIT_CONTAINER = "coffer-agent-init";
export const SIDECAR_CONTAINER = "coffer-agent";
/** The sidecar's configuration, and the init container's. */
export const CONFIG_ANNOTATION = `${COFFER_PREFIX}agent-config`;
export const INIT_CONFIG_ANNOTATION = `${COFFER_PREFIX}agent-config-init`;
export const WARNINGS_ANNOTATION = `${COFFER_PREFIX}agent-inject-warnings`;
/** Kubernetes' limit on a pod's annotations together, keys and values. */
export const MAX_ANNOTATION_BYTES = 256 * 1024;
const utf8 = new TextEncoder();

const isInjectedVolume = (name: string) =>
  name === TOKEN_VOLUME ||
  name === CONFIG_VOLUME ||
  name === SECRETS_VOLUME ||
  name.startsWith(`${SECRETS_VOLUME}-`);
const isInjectedContainer = (name: string) => name === INIT_CONTAINER || name === SIDECAR_CONTAINER;

/** One volume per directory the secrets (and the token, with agent-inject-token) are written to. */
function secretVolumes(plan: InjectionPlan): { name: string; mountPath: string }[] {
  const paths = [
    ...new Set([
      ...plan.secrets.map((secret) => secret.mountPath),
      ...(plan.tokenSink ? [plan.tokenSink.mountPath] : []),
    ]),
  ];
  return paths.map((mountPath, index) => ({
    name: index === 0 ? SECRETS_VOLUME : `${SECRETS_VOLUME}-${index}`,
    mountPath,
  }));
}

function agentContainer(
  plan: InjectionPlan,
  name: string,
  configFile: string,
  mounts: { name: string; mountPath: string }[],
): Container {
  const securityContext: Record<string, unknown> = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  };
  if (plan.runAs) {
    securityContext.runAsUser = plan.runAs.user;
    securityContext.runAsGroup = plan.runAs.group;
  }
  const resources: Record<string, Record<string, string>> = {};
  if (Object.keys(plan.resources.requests).length > 0) resources.requests = plan.resources.requests;
  if (Object.keys(plan.resources.limits).length > 0) resources.limits = plan.resources.limits;
  return {
    name,
    image: plan.image,
    command: ["coffer", "agent", "--config", `${CONFIG_DIRECTORY}/${configFile}`],
    resources,
    securityContext,
    volumeMounts: [
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIRECTORY, readOnly: true },
      { name: CONFIG_VOLUME, mountPath: CONFIG_DIRECTORY, readOnly: true },
      ...mounts.map((mount) => ({ name: mount.name, mountPath: mount.mountPath })),
    ],
  };
}

/** The configuration files, each from its annotation, for the agent's containers the pod gets. */
function configFiles(plan: InjectionPlan): { path: string; annotation: string; init: boolean }[] {
  return [
    ...(plan.prePopulate
      ? [{ path: INIT_CONFIG_FILE_NAME, annotation: INIT_CONFIG_ANNOTATION, init: true }]
      : []),
    ...(plan.prePopulateOnly
      ? []
      : [{ path: SIDECAR_CONFIG_FILE_NAME, annotation: CONFIG_ANNOTATION, init: false }]),
  ];
}

function volumes(plan: InjectionPlan, options: InjectorOptions, secrets: { name: string }[]): Volume[] {
  return [
    ...secrets.map((volume) => ({ name: volume.name, emptyDir: { medium: "Memory" } })),
    {
      name: TOKEN_VOLUME,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              path: "token",
              audience: options.audience,
              expirationSeconds: options.tokenExpirationSeconds,
            },
          },
        ],
      },
    },
    {
      name: CONFIG_VOLUME,
      downwardAPI: {
        items: configFiles(plan).map(({ path, annotation }) => ({
          path,
          fieldRef: { fieldPath: `metadata.annotations['${annotation}']` },
        })),
      },
    },
  ];
}

/** A pod that already holds what the injector would add, other than from an earlier injection being redone. */
function checkConflicts(pod: Pod, plan: InjectionPlan, mounts: { mountPath: string }[]): void {
  const taken = [
    ...(pod.spec.volumes ?? []).map((volume) => volume.name).filter(isInjectedVolume),
    ...[...pod.spec.containers, ...(pod.spec.initContainers ?? [])]
      .map((container) => container.name)
      .filter(isInjectedContainer),
  ];
  if (taken.length > 0) {
    throw new AnnotationError(
      `the pod already has ${taken.join(", ")}: to inject again, set agent-inject-status to "update"`,
    );
  }
  const receiving = [
    ...pod.spec.containers.filter((container) => plan.containers.includes(container.name)),
    ...(pod.spec.initContainers ?? []),
  ];
  for (const container of receiving) {
    for (const mount of mounts) {
      if ((container.volumeMounts ?? []).some((existing) => existing.mountPath === mount.mountPath)) {
        throw new AnnotationError(
          `container ${container.name} already mounts something at ${mount.mountPath}: choose another secret-volume-path`,
        );
      }
    }
  }
}

export interface Injection {
  operations: PatchOperation[];
  /** The pod as the patch leaves it. */
  pod: Pod;
}

/**
 * The patch for a pod to be injected. `statusKey` is the status annotation under the
 * prefix the pod asked with; `reinject` removes what an earlier injection added first.
 */
export function injectPod(
  original: Pod,
  plan: InjectionPlan,
  options: InjectorOptions,
  { statusKey, reinject }: { statusKey: string; reinject: boolean },
): Injection {
  const patch = createPodPatch(original);
  if (reinject) {
    for (const list of ["containers", "initContainers"] as const) {
      patch.removeWhere(["spec", list], (container: Container) => isInjectedContainer(container.name));
      (patch.pod.spec[list] ?? []).forEach((_container, index) => {
        patch.removeWhere(["spec", list, String(index), "volumeMounts"], (mount: VolumeMount) =>
          isInjectedVolume(mount.name),
        );
      });
    }
    patch.removeWhere(["spec", "volumes"], (volume: Volume) => isInjectedVolume(volume.name));
  }
  const secrets = secretVolumes(plan);
  checkConflicts(patch.pod, plan, secrets);

  for (const volume of volumes(plan, options, secrets)) patch.append(["spec", "volumes"], volume);
  const readOnlyMounts = secrets.map((volume) => ({ ...volume, readOnly: true }));
  patch.pod.spec.containers.forEach((container, index) => {
    if (!plan.containers.includes(container.name)) return;
    for (const mount of readOnlyMounts)
      patch.append(["spec", "containers", String(index), "volumeMounts"], mount);
  });
  (patch.pod.spec.initContainers ?? []).forEach((_container, index) => {
    for (const mount of readOnlyMounts)
      patch.append(["spec", "initContainers", String(index), "volumeMounts"], mount);
  });

  // Init containers run in order: with agent-init-first the agent's come before the pod's own.
  let next = plan.initFirst ? 0 : undefined;
  const addInit = (container: Container) => {
    if (next === undefined) patch.append(["spec", "initContainers"], container);
    else patch.insert(["spec", "initContainers"], next++, container);
  };
  if (plan.prePopulate) addInit(agentContainer(plan, INIT_CONTAINER, INIT_CONFIG_FILE_NAME, secrets));
  if (!plan.prePopulateOnly) {
    const sidecar = agentContainer(plan, SIDECAR_CONTAINER, SIDECAR_CONFIG_FILE_NAME, secrets);
    if (options.sidecar === "native") addInit({ ...sidecar, restartPolicy: "Always" });
    else patch.append(["spec", "containers"], sidecar);
  }
  if (plan.shareProcessNamespace !== undefined)
    patch.set(["spec"], "shareProcessNamespace", plan.shareProcessNamespace);

  patch.set(["metadata", "annotations"], statusKey, "injected");
  const files = configFiles(plan);
  for (const annotation of [INIT_CONFIG_ANNOTATION, CONFIG_ANNOTATION]) {
    const file = files.find((candidate) => candidate.annotation === annotation);
    if (file) patch.set(["metadata", "annotations"], annotation, agentConfig(plan, { init: file.init }));
    else patch.unset(["metadata", "annotations"], annotation);
  }
  if (plan.warnings.length > 0)
    patch.set(["metadata", "annotations"], WARNINGS_ANNOTATION, plan.warnings.join("\n"));
  else patch.unset(["metadata", "annotations"], WARNINGS_ANNOTATION);
  const annotationBytes = Object.entries(patch.pod.metadata?.annotations ?? {}).reduce(
    (total, [key, value]) => total + utf8.encode(key).length + utf8.encode(value).length,
    0,
  );
  if (annotationBytes > MAX_ANNOTATION_BYTES) {
    throw new AnnotationError(
      `with the agent's configuration the pod's annotations would take ${annotationBytes} bytes, more than Kubernetes' ${MAX_ANNOTATION_BYTES}: shorten the templates`,
    );
  }
  return { operations: patch.operations, pod: patch.pod };
}
