/**
 * The attribute DynamoDB's TTL housekeeping reads (epoch seconds). DynamoDB deletes expired
 * items up to days late, so nothing in the broker relies on it for correctness: every
 * reader checks expiry itself.
 */
export const TTL_ATTRIBUTE = "expires_at";
