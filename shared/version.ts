/** Reported by sys/health and sys/seal-status, where Vault clients read a version string. */
export const VERSION = "0.1.0";
