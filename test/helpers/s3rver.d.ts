// s3rver ships no types; this declares only the part the test helper uses.
declare module 's3rver' {
  import type { Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    httpServer?: Server;
    /** Resolves with the bound address once listening. */
    run(): Promise<{ address: string; port: number; family: string }>;
    close(): Promise<void>;
  }

  export default S3rver;
}
