// The Node API the panels' unit tests use (no @types/node in the fixed npm set); module declarations
// merge with the other lanes' declarations of the same modules.
declare module 'node:fs' {
  export function readFileSync(path: string, encoding: 'utf8'): string;
}
