// The Node APIs the time/variables/migrate tests use (the fixed npm set has no @types/node). Only ambient
// module declarations here, which merge with another lane's identical ones without conflict.
declare module 'node:module' {
  export function createRequire(url: string): (id: string) => unknown;
}

declare module 'node:fs' {
  export function readFileSync(path: string, encoding: 'utf8'): string;
  export function readdirSync(path: string): string[];
}

declare module 'node:path' {
  export function join(...parts: string[]): string;
}
