/**
 * docker-compose.yml, .env.example and Dockerfile stay consistent with each other and with
 * the app. No Docker engine is needed: `docker-compose config` validates offline (`.ci/run`
 * installs Debian's docker-compose; without it the test is skipped, and fails under CI) and
 * the structure is checked by parsing the YAML.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { itWithTool } from '../helpers/known-limits.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  container_name?: string;
  profiles?: string[];
  ports?: unknown;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
}

// `merge: true`: the app services share config through `<<: *app`, a YAML 1.1 merge key
// that the `yaml` package only resolves when asked.
const compose = parse(composeText, { merge: true }) as {
  version?: unknown;
  services: Record<string, Service>;
};
const services = compose.services;

/** depends_on in either form, as [dependency, condition]. */
function dependencies(service: Service): Array<[string, string]> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return deps.map((d) => [d, 'service_started']);
  return Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']);
}

function words(value: string | string[] | undefined): string {
  return value === undefined ? '' : Array.isArray(value) ? value.join(' ') : value;
}

describe('docker-compose.yml', () => {
  itWithTool('docker-compose', 'passes `docker-compose config -q` (with and without .env.example)', () => {
    for (const extra of [[], ['--env-file', '.env.example']]) {
      const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', ...extra, 'config', '-q'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(r.error).toBeUndefined();
      expect(r.status, `docker-compose ${extra.join(' ')} config -q: ${r.stderr}`).toBe(0);
    }
  }, { args: ['version'] });

  it('is a compose-spec file without `version:`', () => {
    expect(compose.version).toBeUndefined();
  });

  it('defines the stack services', () => {
    for (const name of ['postgres', 'redis', 'minio', 'minio-buckets', 'seed', 'worker', 'scheduler', 'api', 'migrate']) {
      expect(services, name).toHaveProperty([name]);
    }
  });

  it('lets the worker scale: no container_name', () => {
    expect(services.worker).toBeDefined();
    expect(services.worker!.container_name).toBeUndefined();
  });

  it('depends only on services that exist, and service_healthy only on services with a healthcheck', () => {
    const checked: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, condition] of dependencies(service)) {
        expect(services, `${name} depends on ${dep}`).toHaveProperty([dep]);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition !== 'service_healthy') continue;
        const hc = services[dep]!.healthcheck;
        expect(hc?.disable, `${dep} healthcheck disabled`).not.toBe(true);
        expect(words(hc?.test).trim(), `${name} waits for ${dep} to be healthy`).not.toBe('');
        checked.push(`${name}->${dep}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining(['worker->postgres', 'worker->redis', 'minio-buckets->minio', 'seed->postgres']),
    );
    expect(dependencies(services.worker!)).toContainEqual(['minio-buckets', 'service_completed_successfully']);
  });

  it('creates the bronze, silver and gold buckets idempotently', () => {
    const buckets = services['minio-buckets']!;
    const script = `${words(buckets.entrypoint)} ${words(buckets.command)}`;
    for (const bucket of ['bronze', 'silver', 'gold']) expect(script).toMatch(new RegExp(`\\b${bucket}\\b`));
    expect(script).toContain('--ignore-existing');
  });

  it('runs the pipeline scheduler as a service once Redis is healthy', () => {
    expect(words(services.scheduler!.command)).toBe('scheduler');
    expect(dependencies(services.scheduler!)).toContainEqual(['redis', 'service_healthy']);
    expect(services.scheduler!.profiles).toBeUndefined();
  });

  it('serves the API on port 5000 with a healthcheck on /health; other app services disable the image healthcheck', () => {
    const api = services.api!;
    expect(words(api.command)).toBe('serve');
    expect(JSON.stringify(api.ports)).toMatch(/5000/);
    expect(words(api.healthcheck?.test)).toMatch(/127\.0\.0\.1:5000\/health/);
    expect(dependencies(api)).toContainEqual(['redis', 'service_healthy']);
    for (const name of ['seed', 'worker', 'scheduler', 'migrate']) expect(services[name]!.healthcheck?.disable, name).toBe(true);
  });

  it('keeps migrate out of `up` (tools profile)', () => {
    expect(services.migrate!.profiles).toEqual(['tools']);
    expect(words(services.migrate!.command)).toMatch(/^migrate\b.*--wait/);
  });

  it('runs seed, worker and migrate from the image built here', () => {
    for (const name of ['seed', 'worker', 'scheduler', 'api', 'migrate']) {
      expect(services[name]!.build, name).toBeDefined();
      expect(services[name]!.image, name).toBe(services.worker!.image);
    }
  });

  it('documents every variable it interpolates in .env.example', () => {
    const envExample = readFileSync(join(root, '.env.example'), 'utf8');
    // Scan the parsed values, not the text, so comments do not count. ${VAR}, ${VAR:-x},
    // ${VAR-x}; `$$` is an escaped dollar, not interpolation.
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(compose);
    const used = new Set(strings.flatMap((s) => [...s.matchAll(/(?<!\$)\$\{([A-Za-z0-9_]+)/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(envExample, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});

describe('Dockerfile', () => {
  it('starts the CLI that package.json publishes, as a worker by default', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
    expect(entrypoint?.[0]).toBe('node');
    expect(entrypoint?.at(-1)).toBe(pkg.bin.corrente);
    // The bin's memory settings (its #! line) hold in the image too: each Node flag in
    // ENTRYPOINT or NODE_OPTIONS, each variable in ENV.
    const shebang = readFileSync(join(root, 'cli', 'main.ts'), 'utf8').split('\n')[0]!;
    const [, vars = '', flags = ''] = /^#!\/usr\/bin\/env -S (.*?)\s*node\s+(.*)$/.exec(shebang) ?? [];
    const nodeOptions = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1] ?? '';
    for (const flag of flags.split(/\s+/)) expect([...(entrypoint ?? []), ...nodeOptions.split(/\s+/)], flag).toContain(flag);
    for (const v of vars.split(/\s+/).filter(Boolean)) expect(dockerfile, v).toMatch(new RegExp(`^\\s*${v}\\b`, 'm'));
    expect(dockerfile).toMatch(/^CMD \["worker"\]\s*$/m);
    expect(dockerfile).toMatch(/^USER (?!root|0\b)\S+/m);
  });
});

describe('.env.example', () => {
  it('lists every variable corrente reads', () => {
    const envExample = readFileSync(join(root, '.env.example'), 'utf8');
    const names = [
      'DATABASE_URL', 'REDIS_URL', 'LAKE_DIR', 'CORRENTE_CONFIG', 'LOG_LEVEL', 'CORRENTE_REDIS_PREFIX',
      'PG_MAX_CONCURRENT_EXPORTS', 'WORKER_CONCURRENCY', 'MINIO_ENDPOINT', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY',
      'MINIO_REGION', 'MINIO_USE_SSL', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION',
    ];
    for (const name of names) expect(envExample, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    // The local lake is the default: no object-storage endpoint is switched on.
    expect(envExample).not.toMatch(/^(MINIO_ENDPOINT|S3_ENDPOINT|AWS_ENDPOINT_URL)=\S/m);
  });
});
