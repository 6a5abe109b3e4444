// The few Node APIs the unit tests use, declared here because the fixed npm
// set has no @types/node. Extend as needed; keep signatures faithful to Node's.
declare const process: { env: Record<string, string | undefined>; cwd(): string };

declare module 'node:module' {
  export function createRequire(url: string): ((id: string) => unknown) & { resolve(id: string): string };
}

declare module 'node:fs' {
  export function readFileSync(path: string, encoding: 'utf8'): string;
  export function readdirSync(path: string): string[];
  export function statSync(path: string): { isDirectory(): boolean; isFile(): boolean };
  export function existsSync(path: string): boolean;
}

declare module 'node:path' {
  export function join(...parts: string[]): string;
  export function resolve(...parts: string[]): string;
  export function dirname(path: string): string;
}

declare module 'node:url' {
  export function fileURLToPath(url: string | URL): string;
}
