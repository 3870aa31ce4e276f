/**
 * The injector: one pure function from the API server's AdmissionReview to the answer.
 * Both ways of serving it (functions/injector.ts on Lambda, `coffer injector` in the
 * cluster) call it and only carry bytes; it reads no clock, no network and no storage.
 *
 * As Vault's injector: a pod is injected when `agent-inject` is true, it is still pending
 * and its `agent-inject-status` is not "injected" ("update" injects again, replacing what
 * an earlier injection added); a pod that asks for injection in an excluded namespace, or
 * whose annotations cannot be honoured, is refused with the reason; everything else is
 * admitted unchanged.
 */
import { toBase64 } from "../crypto/encoding.ts";
import { AnnotationError, PREFIXES, parseGoBool, readAnnotations } from "./annotations.ts";
import { injectPod } from "./inject.ts";
import { planInjection } from "./injection-plan.ts";
import type { InjectorOptions } from "./injector-options.ts";
import type { AdmissionRequest, AdmissionResponse, AdmissionReview, Pod } from "./kubernetes.ts";

/** A body that is not an AdmissionReview request: the edges answer it with HTTP 400. */
export class AdmissionReviewError extends Error {
  override readonly name = "AdmissionReviewError";
}

const API_VERSIONS = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];
const utf8 = new TextEncoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function readRequest(review: unknown): { apiVersion: string; request: AdmissionRequest } {
  if (!isObject(review) || review.kind !== "AdmissionReview") {
    throw new AdmissionReviewError('expected an AdmissionReview: {"kind": "AdmissionReview", ...}');
  }
  const apiVersion = review.apiVersion;
  if (typeof apiVersion !== "string" || !API_VERSIONS.includes(apiVersion)) {
    throw new AdmissionReviewError(
      `unsupported AdmissionReview apiVersion ${JSON.stringify(apiVersion)}: use admission.k8s.io/v1`,
    );
  }
  const request = review.request;
  if (!isObject(request) || typeof request.uid !== "string" || request.uid === "") {
    throw new AdmissionReviewError("the AdmissionReview has no request with a uid");
  }
  return { apiVersion, request: request as AdmissionRequest };
}

function isPod(value: unknown): value is Pod {
  return (
    isObject(value) &&
    isObject(value.spec) &&
    Array.isArray(value.spec.containers) &&
    value.spec.containers.every((container) => isObject(container) && typeof container.name === "string")
  );
}

function respond(apiVersion: string, response: AdmissionResponse): AdmissionReview {
  return { apiVersion, kind: "AdmissionReview", response };
}

export function reviewAdmission(review: unknown, options: InjectorOptions): AdmissionReview {
  const { apiVersion, request } = readRequest(review);
  const admit = () => respond(apiVersion, { uid: request.uid, allowed: true });
  const refuse = (message: string) =>
    respond(apiVersion, {
      uid: request.uid,
      allowed: false,
      status: { code: 400, message: `coffer injector: ${message}` },
    });
  if ((request.kind?.kind ?? "Pod") !== "Pod" || (request.operation ?? "CREATE") !== "CREATE") return admit();
  if (!isPod(request.object)) return refuse("the request's object is not a pod with containers");
  const pod = request.object;
  const annotations = pod.metadata?.annotations ?? {};
  const reader = readAnnotations(annotations);
  try {
    const inject = reader.get("agent-inject");
    if (inject === undefined || !parseGoBool(inject)) return admit();
    // Injection happens when the pod is created; a running pod is never changed.
    if (pod.status?.phase !== undefined && pod.status.phase !== "" && pod.status.phase !== "Pending")
      return admit();
    const status = reader.get("agent-inject-status")?.value.trim();
    if (status === "injected") return admit();
    const namespace = request.namespace ?? pod.metadata?.namespace ?? "";
    if (options.excludedNamespaces.includes(namespace)) {
      throw new AnnotationError(`pods in the namespace ${namespace} are never injected`);
    }
    const plan = planInjection(pod, reader, options);
    const prefix = PREFIXES.find((candidate) => inject.key.startsWith(candidate)) ?? PREFIXES[0];
    const { operations } = injectPod(pod, plan, options, {
      statusKey: `${prefix}agent-inject-status`,
      reinject: status === "update",
    });
    const response: AdmissionResponse = {
      uid: request.uid,
      allowed: true,
      patchType: "JSONPatch",
      patch: toBase64(utf8.encode(JSON.stringify(operations))),
    };
    if (plan.warnings.length > 0)
      response.warnings = plan.warnings.map((warning) => `coffer injector: ${warning}`);
    return respond(apiVersion, response);
  } catch (error) {
    if (error instanceof AnnotationError) return refuse(error.message);
    throw error;
  }
}
