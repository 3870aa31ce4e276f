/**
 * The webhook's HTTP exchange, shared by both ways of serving it: the request's method
 * and body in, a status and a JSON body out. The API server POSTs an AdmissionReview and
 * reads one back; anything else gets a 4xx with Vault's `{"errors": [...]}`, and the
 * review's own refusals travel inside a 200, as Kubernetes expects.
 */
import { AdmissionReviewError, reviewAdmission } from "./admission-review.ts";
import type { InjectorOptions } from "./injector-options.ts";

/**
 * The API server sends the pod whole; etcd stores objects of at most 1.5 MiB, and the
 * review adds little. Beyond this, the body is not a pod's.
 */
export const MAX_REVIEW_BYTES = 3 * 1024 * 1024;
/** Where the webhook configuration points: Vault's injector serves the same path. */
export const WEBHOOK_PATH = "/mutate";

export interface HttpAnswer {
  status: number;
  body: string;
}

const errors = (status: number, message: string): HttpAnswer => ({
  status,
  body: JSON.stringify({ errors: [message] }),
});

export function answerAdmission(method: string, body: string, options: InjectorOptions): HttpAnswer {
  if (method !== "POST")
    return errors(405, `${method} is not allowed: POST an AdmissionReview to ${WEBHOOK_PATH}`);
  if (body.length > MAX_REVIEW_BYTES)
    return errors(413, `the AdmissionReview is over ${MAX_REVIEW_BYTES} bytes`);
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch {
    return errors(400, "the body is not JSON: expected an AdmissionReview");
  }
  try {
    return { status: 200, body: JSON.stringify(reviewAdmission(review, options)) };
  } catch (error) {
    if (error instanceof AdmissionReviewError) return errors(400, error.message);
    throw error;
  }
}
