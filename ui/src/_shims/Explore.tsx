// TEMPORARY shim for src/explore/Explore.tsx (lane ui-explore); deleted once it is merged.
export function Explore() {
  return <div class="page-body">Explore is coming.</div>;
}
