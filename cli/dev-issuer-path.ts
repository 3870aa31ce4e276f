/**
 * Where `coffer dev` serves its development issuer. Apart from the issuer itself
 * (dev-issuer.ts) so that `coffer dev token`, registered with every command, does not load
 * the issuer's JWT library into each of them.
 */
export const DEV_ISSUER_PATH = "/dev-issuer";
