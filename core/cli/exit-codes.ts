/** kmc's exit codes (documented in the README). */
export const EXIT = {
  ok: 0,
  /** A runtime failure: cannot reach the cluster or the broker, a crash. */
  failure: 1,
  /** Invalid configuration or command line. */
  config: 2,
  /** This replica lost its leader Lease; it exits so its Deployment restarts it (client-go's behaviour). */
  leadershipLost: 3,
} as const;
